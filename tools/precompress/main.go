// Command precompress writes gzip and brotli variants next to each
// compressible file in a directory, for sg2im-server to serve by
// Accept-Encoding:
//
//	go run ./tools/precompress [-quality N] DIR
//
// A variant is kept only if smaller than its file; a stale one is removed.
// Output is deterministic and written atomically.
//
// Brotli quality, measured on a 5.6 MB Go wasm (2 loaded cores; gzip -9
// gives 1.54 MB in about 5 s):
//
//	quality  6: 1.31 MB,  0.9 s
//	quality  9: 1.28 MB,  1.9 s (the default)
//	quality 11: 1.12 MB, 24   s (for releases: 12% smaller, 13x slower)
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"sync"

	"github.com/sg2im-go/sg2im/internal/atomicfile"
)

const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
)

// minSize is the smallest file compressed: below 1 KiB the bytes saved
// are fewer than a TCP packet's worth and not worth a second file.
const minSize = 1024

// compressible lists the extensions worth compressing; images such as .png
// are compressed already.
var compressible = map[string]bool{
	".html": true, ".js": true, ".mjs": true, ".css": true, ".wasm": true,
	".json": true, ".webmanifest": true, ".svg": true, ".safetensors": true,
	".txt": true,
}

// A coding is one kind of variant: its file suffix and compressor.
type coding struct {
	suffix   string
	compress func(b []byte, quality int) ([]byte, error)
}

var codings = []coding{
	{".gz", func(b []byte, _ int) ([]byte, error) { return gzipBytes(b) }},
	{".br", brotliBytes},
}

// A file is one compressible file and the sizes of its kept variants,
// indexed like codings (0: not kept).
type file struct {
	path string
	size int64
	kept [2]int
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	flags := flag.NewFlagSet("precompress", flag.ContinueOnError)
	flags.SetOutput(stderr)
	quality := flags.Int("quality", 9, "brotli `quality`, 0 to 11 (11: smallest, slow)")
	flags.Usage = func() {
		fmt.Fprintf(stderr, "Usage: precompress [-quality N] DIR\n\n")
		flags.PrintDefaults()
	}
	if err := flags.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if flags.NArg() != 1 || *quality < 0 || *quality > 11 {
		flags.Usage()
		return exitUsage
	}
	dir := flags.Arg(0)
	files, err := findFiles(dir)
	if err != nil {
		fmt.Fprintf(stderr, "precompress: %v\n", err)
		return exitFailure
	}
	if err := compressAll(files, *quality); err != nil {
		fmt.Fprintf(stderr, "precompress: %v\n", err)
		return exitFailure
	}
	printTable(stdout, dir, files)
	return exitOK
}

// findFiles returns the compressible regular files under dir, sorted by
// path. Existing .gz and .br files are not compressible, so never chosen.
func findFiles(dir string) ([]*file, error) {
	var files []*file
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() || !compressible[filepath.Ext(path)] {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		files = append(files, &file{path: path, size: info.Size()})
		return nil
	})
	return files, err
}

// compressAll writes or removes every variant of every file, one job per
// variant on all CPUs, largest files first so the wasm does not run last.
func compressAll(files []*file, quality int) error {
	type job struct {
		f *file
		c int // index in codings
	}
	bySize := append([]*file(nil), files...)
	sort.SliceStable(bySize, func(i, j int) bool { return bySize[i].size > bySize[j].size })
	jobs := make(chan job)
	errs := make(chan error, len(files)*len(codings))
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				n, err := writeVariant(j.f, codings[j.c], quality)
				j.f.kept[j.c] = n
				if err != nil {
					errs <- err
				}
			}
		}()
	}
	for _, f := range bySize {
		for c := range codings {
			jobs <- job{f, c}
		}
	}
	close(jobs)
	wg.Wait()
	close(errs)
	return <-errs // nil when the channel is empty
}

// writeVariant writes f's variant for c if f is large enough and the
// variant smaller than f, and otherwise removes any stale one. It returns
// the variant's size, 0 if not kept.
func writeVariant(f *file, c coding, quality int) (int, error) {
	dst := f.path + c.suffix
	if f.size >= minSize {
		b, err := os.ReadFile(f.path)
		if err != nil {
			return 0, err
		}
		z, err := c.compress(b, quality)
		if err != nil {
			return 0, fmt.Errorf("%s: %w", dst, err)
		}
		if len(z) < len(b) {
			return len(z), atomicfile.WriteBytes(dst, z)
		}
	}
	if err := os.Remove(dst); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return 0, err
	}
	return 0, nil
}

// printTable writes one row per file of at least minSize: path relative to
// dir, bytes, and the kept variants' sizes ("-": none). The total row counts
// what a client of each coding downloads, the file itself where no variant
// was kept.
func printTable(w io.Writer, dir string, files []*file) {
	type row struct{ name, size, gz, br string }
	rows := []row{{"file", "bytes", "gz", "br"}}
	var total int64
	var served [2]int64
	for _, f := range files {
		if f.size < minSize {
			continue
		}
		rel, err := filepath.Rel(dir, f.path)
		if err != nil {
			rel = f.path
		}
		rows = append(rows, row{filepath.ToSlash(rel), fmt.Sprint(f.size), sizeCell(f.kept[0]), sizeCell(f.kept[1])})
		total += f.size
		for i, n := range f.kept {
			served[i] += f.size
			if n > 0 {
				served[i] += int64(n) - f.size
			}
		}
	}
	rows = append(rows, row{"total", fmt.Sprint(total), fmt.Sprint(served[0]), fmt.Sprint(served[1])})
	width := 0
	for _, r := range rows {
		width = max(width, len(r.name))
	}
	for _, r := range rows {
		fmt.Fprintf(w, "%-*s %10s %10s %10s\n", width, r.name, r.size, r.gz, r.br)
	}
}

func sizeCell(n int) string {
	if n == 0 {
		return "-"
	}
	return fmt.Sprint(n)
}
