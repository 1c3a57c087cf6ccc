package data

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
)

// FormatError reports an annotation file that does not hold what its
// dataset expects. File names the file; Err says what is wrong and where.
type FormatError struct {
	File string
	Err  error
}

func (e *FormatError) Error() string { return fmt.Sprintf("data: %s: %v", e.File, e.Err) }

func (e *FormatError) Unwrap() error { return e.Err }

func formatErr(file, format string, args ...any) error {
	return &FormatError{File: file, Err: fmt.Errorf(format, args...)}
}

// jsonFile streams one JSON file through a decoder; its errors carry the
// file's name and, for syntax errors, the byte offset.
type jsonFile struct {
	path string
	f    *os.File
	dec  *json.Decoder
}

func openJSON(path string) (*jsonFile, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bufio.NewReaderSize(f, 1<<20))
	return &jsonFile{path: path, f: f, dec: dec}, nil
}

func (j *jsonFile) Close() error { return j.f.Close() }

// fail wraps a decoding error with the file name and position.
func (j *jsonFile) fail(what string, err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return formatErr(j.path, "%s: the file ends early (truncated download?)", what)
	}
	return formatErr(j.path, "%s (near byte %d): %v", what, j.dec.InputOffset(), err)
}

// expectDelim reads one token and checks it is the delimiter d.
func (j *jsonFile) expectDelim(d json.Delim, what string) error {
	tok, err := j.dec.Token()
	if err != nil {
		return j.fail(what, err)
	}
	if got, ok := tok.(json.Delim); !ok || got != d {
		return j.fail(what, fmt.Errorf("found %v where %q was expected", tok, string(d)))
	}
	return nil
}

// objectFields walks a top-level JSON object, calling field for each key;
// field must consume the value (skipValue skips it).
func (j *jsonFile) objectFields(field func(key string) error) error {
	if err := j.expectDelim('{', "top level: want a JSON object"); err != nil {
		return err
	}
	for j.dec.More() {
		tok, err := j.dec.Token()
		if err != nil {
			return j.fail("top level", err)
		}
		key, _ := tok.(string)
		if err := field(key); err != nil {
			return err
		}
	}
	return j.expectDelim('}', "top level")
}

// arrayElems walks a JSON array, calling elem for each element; elem must
// consume it with one Decode.
func (j *jsonFile) arrayElems(what string, elem func(i int) error) error {
	if err := j.expectDelim('[', what+": want a list"); err != nil {
		return err
	}
	for i := 0; j.dec.More(); i++ {
		if err := elem(i); err != nil {
			return err
		}
	}
	return j.expectDelim(']', what)
}

func (j *jsonFile) skipValue(what string) error {
	var skip json.RawMessage
	if err := j.dec.Decode(&skip); err != nil {
		return j.fail(what, err)
	}
	return nil
}
