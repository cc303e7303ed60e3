// Package pgembed runs a private PostgreSQL cluster from the PostgreSQL
// binaries installed on the machine: it initialises a data directory on first
// use, starts the server as a child process on a loopback port, waits until it
// accepts connections, and stops it cleanly.
//
// The server is a direct child (not daemonised by pg_ctl) so that the kernel
// can stop it when this process dies (Pdeathsig), and it runs in its own
// process group so that a terminal's Ctrl-C reaches only us and we decide the
// shutdown order. A server left behind by a killed parent (an orphan on our
// data directory) or a stale postmaster.pid is detected and dealt with on the
// next start.
//
// One process owns a data directory's server (it holds the lock file next to
// the directory). Another process on the same directory, such as a command
// line tool run beside the service, connects to that server and leaves it
// running. A server started while a short-lived tool owns the directory
// loses its database when the tool ends, so start the service first.
package pgembed

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

// Config describes a cluster.
type Config struct {
	// DataDir is the cluster's data directory; it is created and initialised
	// when it holds no cluster yet.
	DataDir string
	// BinDir holds initdb and postgres; found with FindBinDir when empty.
	BinDir string
	// Database is created on start when missing and provisioned for the
	// service's roles (see Provision). Empty means none.
	Database string
	// Port to listen on at 127.0.0.1; 0 picks a free one.
	Port int
	// RunAs is the account the server runs as when this process is root.
	// Defaults to "postgres".
	RunAs string
	// Settings are extra server settings (postgres -c name=value).
	Settings map[string]string
	// StartTimeout bounds the wait for the server to accept connections.
	StartTimeout time.Duration
	Logger       *slog.Logger
}

// superuser is the cluster's bootstrap role; it owns every database.
const superuser = "samverkan"

const passwordFile = "samverkan-password"

// Cluster is a running server.
type Cluster struct {
	cfg      Config
	binDir   string
	owner    *owner
	password string
	port     int
	log      *slog.Logger

	// mu guards the running server and stopping: KeepRunning replaces the
	// server when it dies.
	mu       sync.Mutex
	cmd      *exec.Cmd
	exited   chan struct{}
	waitErr  *error // set before exited is closed
	stopping bool
	stopped  sync.Once
	logPath  string
	// lock is held by the process that runs the server; another process on
	// the same data directory (a command line tool next to `make run`)
	// connects to that server instead of taking it for an orphan.
	lock *os.File
}

// Start initialises the data directory when needed and starts the server.
func Start(ctx context.Context, cfg Config) (*Cluster, error) {
	if cfg.DataDir == "" {
		return nil, errors.New("pgembed: DataDir is required")
	}
	if cfg.RunAs == "" {
		cfg.RunAs = "postgres"
	}
	if cfg.StartTimeout == 0 {
		cfg.StartTimeout = 60 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	abs, err := filepath.Abs(cfg.DataDir)
	if err != nil {
		return nil, err
	}
	cfg.DataDir = abs

	c := &Cluster{cfg: cfg, log: cfg.Logger, logPath: abs + ".log"}
	if cfg.BinDir != "" {
		if err := checkBinDir(cfg.BinDir); err != nil {
			return nil, err
		}
		c.binDir = cfg.BinDir
	} else if c.binDir, err = FindBinDir(); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(abs), 0o755); err != nil {
		return nil, fmt.Errorf("create %s: %w", filepath.Dir(abs), err)
	}
	if os.Geteuid() == 0 {
		if c.owner, err = lookupOwner(cfg.RunAs); err != nil {
			return nil, err
		}
		if err := c.owner.checkReachable(abs); err != nil {
			return nil, err
		}
	}

	owner, err := c.lockOwnership()
	if err != nil {
		return nil, err
	}
	if owner {
		if err := c.initIfNeeded(ctx); err != nil {
			c.unlock()
			return nil, err
		}
		if err := c.clearLeftovers(); err != nil {
			c.unlock()
			return nil, err
		}
		if err := c.start(ctx); err != nil {
			c.unlock()
			return nil, err
		}
	} else if err := c.attach(ctx); err != nil {
		return nil, err
	}
	if cfg.Database != "" {
		create := func() error { return c.CreateDatabase(ctx, cfg.Database, "") }
		if owner {
			create = func() error { return c.Provision(ctx, cfg.Database) }
		}
		if err := create(); err != nil {
			_ = c.Stop()
			return nil, err
		}
	}
	return c, nil
}

// Port is the TCP port the server listens on at 127.0.0.1.
func (c *Cluster) Port() int { return c.port }

// DataDir is the cluster's data directory.
func (c *Cluster) DataDir() string { return c.cfg.DataDir }

// DSN is a connection string for database db as the cluster's superuser.
func (c *Cluster) DSN(db string) string {
	u := url.URL{
		Scheme:   "postgres",
		User:     url.UserPassword(superuser, c.password),
		Host:     net.JoinHostPort("127.0.0.1", strconv.Itoa(c.port)),
		Path:     "/" + db,
		RawQuery: "sslmode=disable",
	}
	return u.String()
}

// Exited is closed when the current server process has ended, for whatever
// reason. After a restart (KeepRunning) it is the new server's channel.
func (c *Cluster) Exited() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.exited
}

// Restart starts the server again on the same port after it has died (it
// was killed, or it crashed), clearing what the dead server left behind.
// It refuses when this process does not run the server, when the server is
// still running, or after Stop.
func (c *Cluster) Restart(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case c.stopping:
		return errors.New("pgembed: the cluster was stopped")
	case c.lock == nil || c.cmd == nil:
		return errors.New("pgembed: the server is run by another process")
	}
	select {
	case <-c.exited:
	default:
		return errors.New("pgembed: the server is still running")
	}
	if err := c.clearLeftovers(); err != nil {
		return err
	}
	return c.startOn(ctx, c.port)
}

// Backoff is how long KeepRunning waits before its first restart attempt
// and at most between attempts (the wait doubles after each failure).
type Backoff struct {
	First, Max time.Duration
}

// KeepRunning restarts the server whenever it ends by itself, until ctx
// ends or Stop is called. Failed attempts are retried after a wait that
// doubles from b.First up to b.Max. restarted (if not nil) is called after
// each successful restart. It returns when ctx ends or the cluster stops;
// run it in its own goroutine. A cluster run by another process is not
// watched.
func (c *Cluster) KeepRunning(ctx context.Context, b Backoff, restarted func()) {
	if b.First <= 0 {
		b.First = 200 * time.Millisecond
	}
	if b.Max < b.First {
		b.Max = 30 * time.Second
	}
	for {
		c.mu.Lock()
		exited, owned, cmd := c.exited, c.lock != nil && c.cmd != nil, c.cmd
		c.mu.Unlock()
		if !owned {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-exited:
		}
		c.mu.Lock()
		stopping, waitErr := c.stopping, *c.waitErr
		c.mu.Unlock()
		if stopping {
			return
		}
		c.log.Error("embedded PostgreSQL exited unexpectedly; restarting it", "pid", cmd.Process.Pid, "exit", waitErr)
		wait := b.First
		for attempt := 1; ; attempt++ {
			select {
			case <-ctx.Done():
				return
			case <-time.After(wait):
			}
			err := c.Restart(ctx)
			if err == nil {
				c.log.Warn("embedded PostgreSQL restarted", "attempt", attempt, "port", c.port)
				if restarted != nil {
					restarted()
				}
				break
			}
			if c.isStopping() || ctx.Err() != nil {
				return
			}
			wait = min(2*wait, b.Max)
			c.log.Error("restarting the embedded PostgreSQL failed; trying again", "attempt", attempt, "retry_in", wait, "err", err)
		}
	}
}

func (c *Cluster) isStopping() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.stopping
}

// CreateDatabase creates db (from template, when given) unless it exists.
func (c *Cluster) CreateDatabase(ctx context.Context, db, template string) error {
	conn, err := pgx.Connect(ctx, c.DSN("postgres"))
	if err != nil {
		return fmt.Errorf("connect to embedded PostgreSQL: %w", err)
	}
	defer conn.Close(ctx)
	var exists bool
	if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", db).Scan(&exists); err != nil {
		return fmt.Errorf("look up database %q: %w", db, err)
	}
	if exists {
		return nil
	}
	stmt := "CREATE DATABASE " + pgx.Identifier{db}.Sanitize()
	if template != "" {
		stmt += " TEMPLATE " + pgx.Identifier{template}.Sanitize()
	}
	if _, err := conn.Exec(ctx, stmt); err != nil {
		return fmt.Errorf("create database %q: %w", db, err)
	}
	return nil
}

func (c *Cluster) initIfNeeded(ctx context.Context) error {
	dir := c.cfg.DataDir
	pwPath := filepath.Join(dir, passwordFile)
	if _, err := os.Stat(filepath.Join(dir, "PG_VERSION")); err == nil {
		pw, err := os.ReadFile(pwPath)
		if err != nil {
			return fmt.Errorf("read the embedded cluster's password (%s): %w", pwPath, err)
		}
		c.password = strings.TrimSpace(string(pw))
		return nil
	}

	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create data directory: %w", err)
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return err
	}
	if err := c.owner.chownTree(dir); err != nil {
		return fmt.Errorf("give the data directory to %s: %w", c.owner.name, err)
	}
	c.password = randomHex(16)
	// initdb reads the password from a file, which its (unprivileged) user
	// must be able to read.
	pwf, err := os.CreateTemp("", "samverkan-initdb-*")
	if err != nil {
		return err
	}
	defer os.Remove(pwf.Name())
	if _, err := pwf.WriteString(c.password + "\n"); err != nil {
		return err
	}
	pwf.Close()
	if c.owner != nil {
		if err := os.Chown(pwf.Name(), int(c.owner.uid), int(c.owner.gid)); err != nil {
			return err
		}
	}

	c.log.Info("initialising embedded PostgreSQL cluster", "dir", dir)
	cmd := exec.CommandContext(ctx, c.bin("initdb"),
		"-D", dir, "-U", superuser, "--pwfile", pwf.Name(),
		"-A", "scram-sha-256", "-E", "UTF8", "--locale=C.UTF-8", "--no-instructions", "--no-sync")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: c.owner.credential()}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("initdb failed: %w\n%s", err, out.String())
	}
	// Written last: its presence next to PG_VERSION marks a finished init.
	if err := os.WriteFile(pwPath, []byte(c.password+"\n"), 0o600); err != nil {
		return err
	}
	if c.owner != nil {
		return os.Chown(pwPath, int(c.owner.uid), int(c.owner.gid))
	}
	return nil
}

// lockOwnership takes the data directory's lock file without waiting; it
// tells whether this process now owns (runs) the server. The kernel drops
// the lock when the owner exits, however it exits.
func (c *Cluster) lockOwnership() (bool, error) {
	path := c.cfg.DataDir + ".lock"
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return false, fmt.Errorf("open %s: %w", path, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return false, nil
		}
		return false, fmt.Errorf("lock %s: %w", path, err)
	}
	c.lock = f
	return true, nil
}

func (c *Cluster) unlock() {
	if c.lock != nil {
		c.lock.Close()
		c.lock = nil
	}
}

// attach connects to the server that another process runs on our data
// directory, waiting while that process is still starting it. The other
// process owns the server: Stop leaves it running.
func (c *Cluster) attach(ctx context.Context) error {
	c.log.Info("embedded PostgreSQL is run by another process; connecting to it", "dir", c.cfg.DataDir)
	ctx, cancel := context.WithTimeout(ctx, c.cfg.StartTimeout)
	defer cancel()
	var lastErr error
	for {
		if lastErr = c.readRunning(); lastErr == nil {
			conn, err := pgx.Connect(ctx, c.DSN("postgres"))
			if err == nil {
				conn.Close(ctx)
				return nil
			}
			lastErr = err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("the embedded PostgreSQL in %s is run by another process but did not accept connections within %s: %w",
				c.cfg.DataDir, c.cfg.StartTimeout, lastErr)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// readRunning reads the password and the running server's port (the fourth
// line of postmaster.pid).
func (c *Cluster) readRunning() error {
	pw, err := os.ReadFile(filepath.Join(c.cfg.DataDir, passwordFile))
	if err != nil {
		return err
	}
	b, err := os.ReadFile(filepath.Join(c.cfg.DataDir, "postmaster.pid"))
	if err != nil {
		return err
	}
	lines := strings.Split(string(b), "\n")
	if len(lines) < 4 {
		return errors.New("postmaster.pid is not complete yet")
	}
	port, err := strconv.Atoi(strings.TrimSpace(lines[3]))
	if err != nil {
		return fmt.Errorf("postmaster.pid: port %q: %w", lines[3], err)
	}
	c.password, c.port = strings.TrimSpace(string(pw)), port
	return nil
}

// clearLeftovers handles what a killed parent can leave: a server still
// running on our data directory (stopped here, so that the new one is our
// child again) or a postmaster.pid naming a process that is gone.
func (c *Cluster) clearLeftovers() error {
	pidPath := filepath.Join(c.cfg.DataDir, "postmaster.pid")
	b, err := os.ReadFile(pidPath)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	first, _, _ := strings.Cut(string(b), "\n")
	pid, err := strconv.Atoi(strings.TrimSpace(first))
	if err != nil || pid <= 0 {
		c.log.Warn("removing unreadable postmaster.pid", "path", pidPath)
		return os.Remove(pidPath)
	}
	if !c.isOurPostmaster(pid) {
		c.log.Warn("removing stale postmaster.pid", "pid", pid)
		return os.Remove(pidPath)
	}
	c.log.Warn("stopping a PostgreSQL server left running on our data directory", "pid", pid)
	if err := syscall.Kill(pid, syscall.SIGINT); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("stop orphaned PostgreSQL (pid %d): %w", pid, err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for c.isOurPostmaster(pid) {
		if time.Now().After(deadline) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
		time.Sleep(50 * time.Millisecond)
	}
	// postgres removes its pid file on a clean stop; after SIGKILL it does not.
	if err := os.Remove(pidPath); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}

// isOurPostmaster tells whether pid is a postgres process serving our data
// directory (and not an unrelated process that reused the pid).
func (c *Cluster) isOurPostmaster(pid int) bool {
	cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil {
		return false
	}
	// A zombie has an empty cmdline; it is gone for our purposes.
	args := strings.Split(strings.TrimRight(string(cmdline), "\x00"), "\x00")
	if len(args) == 0 || filepath.Base(args[0]) != "postgres" {
		return false
	}
	for i, a := range args {
		if a == "-D" && i+1 < len(args) && args[i+1] == c.cfg.DataDir {
			return true
		}
	}
	return false
}

func (c *Cluster) start(ctx context.Context) error {
	port := c.cfg.Port
	if port == 0 {
		p, err := freePort()
		if err != nil {
			return err
		}
		port = p
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.startOn(ctx, port)
}

// startOn starts the server on port and waits until it accepts
// connections; c.mu is held. The port never changes after the first start
// (Port and DSN read it without the lock).
func (c *Cluster) startOn(ctx context.Context, port int) error {
	if c.port != port {
		c.port = port
	}
	args := []string{
		"-D", c.cfg.DataDir,
		"-c", "listen_addresses=127.0.0.1",
		"-c", "port=" + strconv.Itoa(c.port),
		"-c", "unix_socket_directories=",
		"-c", "max_connections=200",
	}
	for k, v := range c.cfg.Settings {
		args = append(args, "-c", k+"="+v)
	}
	logf, err := os.OpenFile(c.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("open PostgreSQL log: %w", err)
	}
	defer logf.Close()
	logStart, _ := logf.Seek(0, 2)

	cmd := exec.Command(c.bin("postgres"), args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Credential: c.owner.credential(),
		Setpgid:    true,
		// SIGINT is PostgreSQL's fast shutdown: if we die, so does it.
		Pdeathsig: syscall.SIGINT,
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start postgres: %w", err)
	}
	exited, waitErr := make(chan struct{}), new(error)
	c.cmd, c.exited, c.waitErr = cmd, exited, waitErr
	go func() {
		*waitErr = cmd.Wait()
		close(exited)
	}()

	ctx, cancel := context.WithTimeout(ctx, c.cfg.StartTimeout)
	defer cancel()
	for {
		conn, err := pgx.Connect(ctx, c.DSN("postgres"))
		if err == nil {
			conn.Close(ctx)
			c.log.Info("embedded PostgreSQL ready", "port", c.port, "dir", c.cfg.DataDir, "pid", cmd.Process.Pid)
			return nil
		}
		select {
		case <-exited:
			return fmt.Errorf("postgres exited during start-up; its log says:\n%s", c.logSince(logStart))
		case <-ctx.Done():
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-exited
			return fmt.Errorf("postgres did not accept connections within %s; its log says:\n%s", c.cfg.StartTimeout, c.logSince(logStart))
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func (c *Cluster) logSince(offset int64) string {
	b, err := os.ReadFile(c.logPath)
	if err != nil || int64(len(b)) < offset {
		return ""
	}
	b = b[offset:]
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

// Stop shuts the server down (fast shutdown: connections are closed, data is
// checkpointed) and waits for it to exit. A server run by another process
// (see attach) is left running. It is safe to call more than once.
func (c *Cluster) Stop() error {
	var err error
	c.stopped.Do(func() {
		// Waits for a restart under way (KeepRunning) to finish.
		c.mu.Lock()
		c.stopping = true
		cmd, exited := c.cmd, c.exited
		c.mu.Unlock()
		defer c.unlock()
		if cmd == nil {
			return
		}
		_ = cmd.Process.Signal(syscall.SIGINT)
		select {
		case <-exited:
		case <-time.After(30 * time.Second):
			c.log.Warn("postgres did not stop within 30s, killing it")
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-exited
			err = errors.New("postgres had to be killed")
		}
	})
	return err
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
