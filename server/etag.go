package server

import (
	"crypto/sha256"
	"encoding/hex"
	"io"
	"io/fs"
	"sync"
	"time"
)

// etagCache remembers each file's content-hash ETag. A file's size and
// mtime are checked on each use, so files rewritten under os.DirFS during
// development get a new tag; embedded files never change.
type etagCache struct {
	fsys fs.FS
	mu   sync.Mutex
	tags map[string]etagEntry
}

type etagEntry struct {
	size int64
	mod  time.Time
	tag  string
}

func newETagCache(fsys fs.FS) *etagCache {
	return &etagCache{fsys: fsys, tags: make(map[string]etagEntry)}
}

// get returns the strong ETag of the file name whose stat is info.
func (c *etagCache) get(name string, info fs.FileInfo) (string, error) {
	c.mu.Lock()
	e, ok := c.tags[name]
	c.mu.Unlock()
	if ok && e.size == info.Size() && e.mod.Equal(info.ModTime()) {
		return e.tag, nil
	}
	// Hashed outside the lock: two requests may both hash a new file once,
	// which is cheaper than serialising every first request.
	tag, err := hashFile(c.fsys, name)
	if err != nil {
		return "", err
	}
	c.mu.Lock()
	c.tags[name] = etagEntry{info.Size(), info.ModTime(), tag}
	c.mu.Unlock()
	return tag, nil
}

// hashFile returns a quoted hex SHA-256 prefix of the file's content; 128
// bits are ample to tell versions of one file apart.
func hashFile(fsys fs.FS, name string) (string, error) {
	f, err := fsys.Open(name)
	if err != nil {
		return "", err
	}
	defer f.Close()
	sum := sha256.New()
	if _, err := io.Copy(sum, f); err != nil {
		return "", err
	}
	return `"` + hex.EncodeToString(sum.Sum(nil)[:16]) + `"`, nil
}
