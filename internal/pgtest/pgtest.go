// Package pgtest starts a throwaway PostgreSQL server for tests, from the initdb, pg_ctl and
// postgres binaries on PATH (or under /usr/lib/postgresql/*/bin): a data directory in a
// temporary folder, a Unix socket only (no TCP port), fsync off, stopped and removed by
// the test's cleanup. PostgreSQL refuses to run as root, so as root (CI) the server runs
// as the "postgres" user when it exists, else as "nobody".
package pgtest

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
)

// Server is a running PostgreSQL.
type Server struct {
	// Dir is the data directory; the socket is in it.
	Dir string
	// DSN connects to the "postgres" database as the "postgres" role (trust auth).
	DSN string

	stop func()
}

// findBin finds a PostgreSQL program on PATH or in Debian's versioned directories.
func findBin(name string) (string, error) {
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	matches, _ := filepath.Glob("/usr/lib/postgresql/*/bin/" + name)
	if len(matches) > 0 {
		return matches[len(matches)-1], nil
	}
	return "", fmt.Errorf("%s not found on PATH nor in /usr/lib/postgresql/*/bin", name)
}

// runAs is the user PostgreSQL runs as: nil for the current user unless it is root.
func runAs() (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	for _, name := range []string{"postgres", "nobody"} {
		u, err := user.Lookup(name)
		if err != nil {
			continue
		}
		uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
		gid, err2 := strconv.ParseUint(u.Gid, 10, 32)
		if err1 != nil || err2 != nil || uid == 0 {
			continue
		}
		return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
	}
	return nil, errors.New("running as root, and neither a postgres nor a nobody user exists to run PostgreSQL as")
}

// Start starts a server for tb, or skips tb when PostgreSQL is not installed.
func Start(tb testing.TB) *Server {
	tb.Helper()
	s, err := start()
	if errors.Is(err, errNotInstalled) {
		tb.Skipf("PostgreSQL is not installed: %v", err)
	}
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(s.Stop)
	return s
}

var errNotInstalled = errors.New("not installed")

func start() (*Server, error) {
	bins := map[string]string{}
	for _, name := range []string{"initdb", "pg_ctl", "postgres"} {
		p, err := findBin(name)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", errNotInstalled, err)
		}
		bins[name] = p
	}
	cred, err := runAs()
	if err != nil {
		return nil, err
	}
	// os.MkdirTemp makes 0700 folders: the server's user must be able to enter ours.
	root, err := os.MkdirTemp("", "pgtest-")
	if err != nil {
		return nil, err
	}
	if err := os.Chmod(root, 0o755); err != nil {
		return nil, err
	}
	dir := filepath.Join(root, "data")
	if err := os.Mkdir(dir, 0o700); err != nil {
		return nil, err
	}
	if cred != nil {
		if err := os.Chown(dir, int(cred.Uid), int(cred.Gid)); err != nil {
			return nil, err
		}
	}
	s := &Server{Dir: dir, DSN: fmt.Sprintf("host=%s user=postgres dbname=postgres sslmode=disable", dir)}
	run := func(name string, args ...string) error {
		cmd := exec.Command(bins[name], args...)
		cmd.Dir = root
		if cred != nil {
			cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
		}
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("%s %v: %w\n%s", name, args, err, out.String())
		}
		return nil
	}
	if err := run("initdb", "-D", dir, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync", "--no-instructions"); err != nil {
		_ = os.RemoveAll(root)
		return nil, err
	}
	opts := fmt.Sprintf("-k %s -c listen_addresses='' -F -c max_connections=200 -c shared_buffers=64MB", dir)
	if err := run("pg_ctl", "-D", dir, "-o", opts, "-l", filepath.Join(dir, "server.log"), "-w", "-t", "60", "start"); err != nil {
		_ = os.RemoveAll(root)
		return nil, err
	}
	s.stop = func() {
		_ = run("pg_ctl", "-D", dir, "-m", "immediate", "-w", "-t", "30", "stop")
		_ = os.RemoveAll(root)
	}
	return s, nil
}

// Stop stops the server and removes its files.
func (s *Server) Stop() {
	if s.stop != nil {
		s.stop()
		s.stop = nil
	}
}
