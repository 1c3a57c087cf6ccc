// Command sg2im-server serves the sg2im browser app, embedded at build
// time from server/static/dist, or a directory from disk during development.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/sg2im-go/sg2im/server"
	"github.com/sg2im-go/sg2im/server/static"
)

// Exit codes, as for cmd/sg2im.
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
)

// shutdownTimeout bounds how long in-flight downloads may finish after a
// signal; the model and wasm take seconds even on slow links.
const shutdownTimeout = 10 * time.Second

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Stdout, os.Stderr))
}

// run serves until ctx is done or SIGINT or SIGTERM arrives, then shuts
// down gracefully, and returns the exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	flags := flag.NewFlagSet("sg2im-server", flag.ContinueOnError)
	flags.SetOutput(stderr)
	addr := flags.String("addr", "127.0.0.1:8080", "listen on `host:port`; port 0 picks a free one")
	dir := flags.String("dir", "", "serve `DIR` from disk instead of the embedded app (development)")
	flags.Usage = func() {
		fmt.Fprintf(stderr, "Usage: sg2im-server [--addr host:port] [--dir DIR]\n\n")
		flags.PrintDefaults()
	}
	if err := flags.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if flags.NArg() > 0 {
		fmt.Fprintf(stderr, "sg2im-server: unexpected argument %q\n", flags.Arg(0))
		return exitUsage
	}

	app := static.Dist()
	if *dir != "" {
		if info, err := os.Stat(*dir); err != nil || !info.IsDir() {
			fmt.Fprintf(stderr, "sg2im-server: --dir %s is not a directory; build it with `make app`\n", *dir)
			return exitUsage
		}
		// An os.Root never leaves its directory, symbolic links included.
		root, err := os.OpenRoot(*dir)
		if err != nil {
			fmt.Fprintf(stderr, "sg2im-server: --dir %s: %v\n", *dir, err)
			return exitUsage
		}
		defer root.Close()
		app = rootFS{root.FS()}
	}
	if err := serve(ctx, *addr, app, stdout, stderr); err != nil {
		fmt.Fprintf(stderr, "sg2im-server: %v\n", err)
		return exitFailure
	}
	return exitOK
}

// serve listens on addr and serves app until ctx is done or a signal.
func serve(ctx context.Context, addr string, app fs.FS, stdout, stderr io.Writer) error {
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()

	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	logger := log.New(stderr, "", log.LstdFlags)
	srv := &http.Server{
		Handler:  server.New(app, server.Options{Logger: logger}),
		ErrorLog: logger,
		// Requests are bodiless GETs: headers and reads must be quick.
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		// Long enough for the largest file (the wasm, ~10 MB) on a slow
		// link, short enough to reclaim stalled connections.
		WriteTimeout:   10 * time.Minute,
		IdleTimeout:    2 * time.Minute,
		MaxHeaderBytes: 64 << 10, // far above any browser's GET headers
	}
	fmt.Fprintf(stdout, "serving sg2im on http://%s/\n", ln.Addr())

	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	select {
	case err := <-done:
		return err // Serve never returns nil
	case <-ctx.Done():
	}
	stop() // a second signal kills at once
	shutCtx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(shutCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-done; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// rootFS reports what an os.Root refuses (a link that leads out of it) as
// not found; errors from the system itself stay errors.
type rootFS struct{ fsys fs.FS }

func (r rootFS) Open(name string) (fs.File, error) {
	f, err := r.fsys.Open(name)
	return f, refusedAsNotExist(err)
}

func (r rootFS) Stat(name string) (fs.FileInfo, error) {
	info, err := fs.Stat(r.fsys, name)
	return info, refusedAsNotExist(err)
}

func refusedAsNotExist(err error) error {
	var pe *fs.PathError
	var errno syscall.Errno
	if errors.As(err, &pe) && !errors.As(err, &errno) {
		return &fs.PathError{Op: pe.Op, Path: pe.Path, Err: fs.ErrNotExist}
	}
	return err
}
