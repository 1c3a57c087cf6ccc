package weights

import (
	"fmt"
	"io"
	"math/bits"

	"github.com/nlpodyssey/gopickle/types"
	"github.com/sg2im-go/sg2im/nn"
)

// storageDTypes maps PyTorch's storage classes to element types.
var storageDTypes = map[string]DType{
	"DoubleStorage": F64, "FloatStorage": F32, "HalfStorage": F16,
	"BFloat16Storage": BF16, "LongStorage": I64, "IntStorage": I32,
	"ShortStorage": I16, "CharStorage": I8, "ByteStorage": U8,
	"BoolStorage": BOOL,
}

// storageClass is a torch.*Storage class; dtype is "" for one the package
// cannot read, which is an error only if a needed tensor uses it.
type storageClass struct {
	name  string
	dtype DType
}

// storage is one PyTorch storage: numel elements whose bytes are located
// after the pickle is read. A legacy view has a root and an offset into it.
type storage struct {
	key     string
	class   *storageClass
	numel   int
	located bool  // a legacy file's storage, found after the pickles
	at      int64 // where its bytes start in the file, once located
	root    *storage
	offset  int
}

// lazyTensor is a tensor as the pickle describes it; its values are read
// only if the checkpoint needs it (optimizer state is never read).
type lazyTensor struct {
	st           *storage
	offset       int
	size, stride []int
}

// torchReader holds the storages of one checkpoint being read from file,
// of size bytes.
type torchReader struct {
	file     io.ReaderAt
	size     int64
	storages map[string]*storage
	// locate tells where elements [lo, hi) of a root storage are: at a
	// byte of the file, or inflated from a compressed record (b). It is
	// nil when all were located up front (legacy files).
	locate func(st *storage, lo, hi int) (at int64, b []byte, err error)
	// budget is how many more values may be materialised: no more than the
	// file has bytes, so shared or stride-0 storages cannot blow up memory.
	budget int
	// fileSize bounds the values one tensor's span may cover: a stored
	// storage never passes it, an inflated one may not.
	fileSize int
	// scratch converts values that are not float32 a chunk at a time.
	scratch []byte
}

func newTorchReader(file io.ReaderAt, size int64) *torchReader {
	return &torchReader{file: file, size: size, storages: map[string]*storage{},
		budget: int(size), fileSize: int(size), scratch: make([]byte, 1<<16)}
}

// persistentLoad resolves the storages a pickle refers to: ('storage',
// class, key, location, numel) in zip files, ('storage', class, key,
// location, numel, view) in legacy ones.
func (r *torchReader) persistentLoad(pid any) (any, error) {
	t, ok := pid.(*types.Tuple)
	if !ok || len(*t) < 5 || len(*t) > 6 || (*t)[0] != "storage" {
		return nil, formatErr("corrupt checkpoint: unsupported persistent id %s", describe(pid))
	}
	cls, ok1 := (*t)[1].(*storageClass)
	key, ok2 := (*t)[2].(string)
	numel, ok3 := (*t)[4].(int)
	if !ok1 || !ok2 || !ok3 || numel < 0 {
		return nil, formatErr("corrupt checkpoint: bad storage reference %s", describe(pid))
	}
	st := r.storages[key]
	if st == nil {
		st = &storage{key: key, class: cls, numel: numel}
		r.storages[key] = st
	} else if st.class.name != cls.name || st.numel != numel {
		return nil, formatErr("corrupt checkpoint: storage %q is declared twice differently", key)
	}
	if len(*t) == 5 || (*t)[5] == nil {
		return st, nil
	}
	// A legacy view: (view_key, offset, size) into st.
	v, ok := (*t)[5].(*types.Tuple)
	if !ok || len(*v) != 3 {
		return nil, formatErr("corrupt checkpoint: bad storage view %s", describe((*t)[5]))
	}
	vkey, ok1 := (*v)[0].(string)
	off, ok2 := (*v)[1].(int)
	n, ok3 := (*v)[2].(int)
	if !ok1 || !ok2 || !ok3 || off < 0 || n < 0 || st.root != nil || off > numel || n > numel-off {
		return nil, formatErr("corrupt checkpoint: bad storage view %s of storage %q", describe(v), key)
	}
	if view := r.storages[vkey]; view != nil {
		return view, nil
	}
	view := &storage{key: vkey, class: cls, numel: n, root: st, offset: off}
	r.storages[vkey] = view
	return view, nil
}

// where tells where elements [lo, hi) of st are: at a byte of the file,
// or inflated (b). Only what a tensor reads is located, so a compressed
// record is never inflated beyond it.
func (r *torchReader) where(st *storage, lo, hi int) (at int64, b []byte, err error) {
	if st.root != nil {
		return r.where(st.root, st.offset+lo, st.offset+hi)
	}
	if st.located {
		return st.at + int64(lo)*int64(st.class.dtype.size()), nil, nil
	}
	if r.locate == nil {
		return 0, nil, formatErr("corrupt checkpoint: storage %q has no data in the file", st.key)
	}
	return r.locate(st, lo, hi)
}

// readInto reads len(dst) values of st from element lo on into dst,
// straight from the file.
func (r *torchReader) readInto(dst []float32, st *storage, lo int) error {
	d := st.class.dtype
	at, b, err := r.where(st, lo, lo+len(dst))
	switch {
	case err != nil:
		return err
	case b != nil:
		decode(dst, b, d)
		return nil
	}
	if m, ok := r.file.(memFile); ok {
		b, err := readSpan(m, at, int64(len(dst)*d.size()))
		if err == nil {
			decode(dst, b, d)
		}
		return err
	}
	if err := readValues(r.file, at, dst, d, r.scratch); err != nil {
		return fileReadErr(err)
	}
	return nil
}

// span returns the bytes of elements [lo, hi) of st.
func (r *torchReader) span(st *storage, lo, hi int) ([]byte, error) {
	at, b, err := r.where(st, lo, hi)
	if err != nil || b != nil {
		return b, err
	}
	return readSpan(r.file, at, int64(hi-lo)*int64(st.class.dtype.size()))
}

// rebuildTensor is torch._utils._rebuild_tensor_v2(storage, offset, size,
// stride, requires_grad, backward_hooks): it checks the view's arguments.
func rebuildTensor(args ...any) (any, error) {
	if len(args) < 4 {
		return nil, fmt.Errorf("_rebuild_tensor: want at least 4 arguments, got %d", len(args))
	}
	st, ok := args[0].(*storage)
	if !ok {
		return nil, fmt.Errorf("_rebuild_tensor: %s is not a storage", describe(args[0]))
	}
	off, ok := args[1].(int)
	size, ok1 := intList(args[2])
	stride, ok2 := intList(args[3])
	if !ok || !ok1 || !ok2 || off < 0 || len(size) != len(stride) {
		return nil, fmt.Errorf("_rebuild_tensor: bad offset, size or stride")
	}
	for i := range size {
		if size[i] < 0 || size[i] > maxDim || stride[i] < 0 {
			return nil, fmt.Errorf("_rebuild_tensor: bad size %v or stride %v", size, stride)
		}
	}
	return &lazyTensor{st: st, offset: off, size: size, stride: stride}, nil
}

// rebuildParameter is torch._utils._rebuild_parameter(data, ...).
func rebuildParameter(args ...any) (any, error) {
	if len(args) == 0 {
		return nil, fmt.Errorf("_rebuild_parameter: no arguments")
	}
	return args[0], nil
}

// rebuildFromType is torch._tensor._rebuild_from_type_v2(func, type, args,
// state): tensor subclasses are read as plain tensors.
func rebuildFromType(args ...any) (any, error) {
	if len(args) >= 3 {
		f, ok1 := args[0].(types.Callable)
		a, ok2 := args[2].(*types.Tuple)
		if ok1 && ok2 {
			return f.Call(*a...)
		}
	}
	return nil, fmt.Errorf("_rebuild_from_type_v2: bad arguments")
}

func intList(v any) ([]int, bool) {
	var items []any
	switch l := v.(type) {
	case *types.Tuple:
		items = *l
	case *types.List:
		items = *l
	default:
		return nil, false
	}
	out := make([]int, len(items))
	for i, x := range items {
		n, ok := x.(int)
		if !ok {
			return nil, false
		}
		out[i] = n
	}
	return out, true
}

// materialise reads a tensor's values into a contiguous float32 tensor.
func (r *torchReader) materialise(lt *lazyTensor, name string) (*nn.Tensor, DType, error) {
	st := lt.st
	dt := st.class.dtype
	es := dt.size()
	if es == 0 {
		return nil, "", formatErr("tensor %q: storage type %s is not supported", name, st.class.name)
	}
	// numel saturates above the budget, which also bounds it.
	numel := uint64(1)
	for _, d := range lt.size {
		numel = mulSat(numel, uint64(d), uint64(r.budget)+1)
	}
	if numel > uint64(r.budget) {
		return nil, "", formatErr("tensor %q: shape %v has more values than the file can hold", name, lt.size)
	}
	t := nn.New(lt.size...)
	if numel == 0 {
		return t, dt, nil
	}
	// The last element must lie inside the storage.
	last := uint64(lt.offset)
	lim := uint64(st.numel)
	for i, d := range lt.size {
		last += mulSat(uint64(d-1), uint64(lt.stride[i]), lim+1)
		last = min(last, lim+1)
	}
	if last >= lim {
		return nil, "", formatErr("tensor %q: shape %v, stride %v and offset %d reach past the end of its storage of %d values", name, lt.size, lt.stride, lt.offset, st.numel)
	}
	// The values between the first and the last may have to be inflated
	// and held.
	if last-uint64(lt.offset)+1 > uint64(r.fileSize) {
		return nil, "", formatErr("tensor %q: shape %v and stride %v spread its values over more of its storage than the file can hold", name, lt.size, lt.stride)
	}
	if isContiguous(lt.size, lt.stride) {
		if err := r.readInto(t.Data, st, lt.offset); err != nil {
			return nil, "", within(fmt.Sprintf("tensor %q", name), err)
		}
		r.budget -= int(numel)
		return t, dt, nil
	}
	b, err := r.span(st, lt.offset, int(last)+1)
	if err != nil {
		return nil, "", within(fmt.Sprintf("tensor %q", name), err)
	}
	r.budget -= int(numel)
	// Walk the indices in row-major order like an odometer; b starts at
	// the tensor's offset.
	idx := make([]int, len(lt.size))
	at := 0
	for i := range t.Data {
		decode(t.Data[i:i+1], b[at*es:], dt)
		for k := len(idx) - 1; k >= 0; k-- {
			idx[k]++
			at += lt.stride[k]
			if idx[k] < lt.size[k] {
				break
			}
			at -= idx[k] * lt.stride[k]
			idx[k] = 0
		}
	}
	return t, dt, nil
}

// isContiguous reports whether stride is the row-major stride of size
// (dimensions of size 1 may have any stride).
func isContiguous(size, stride []int) bool {
	want := 1
	for i := len(size) - 1; i >= 0; i-- {
		if size[i] != 1 && stride[i] != want {
			return false
		}
		want *= size[i]
	}
	return true
}

// mulSat returns min(a*b, limit).
func mulSat(a, b, limit uint64) uint64 {
	hi, lo := bits.Mul64(a, b)
	if hi != 0 || lo > limit {
		return limit
	}
	return lo
}
