package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/samverkan/samverkan/cmd/samverkan/internal/app"
	"github.com/samverkan/samverkan/internal/config"
	"github.com/samverkan/samverkan/internal/web"
)

// server is the service under test.
type server interface {
	URL() string
	// PID is the process to watch (0: in this process).
	PID() int
	Stop() error
}

// serverProc is `samverkan serve` in a process of its own, so that its
// CPU time and memory are its own.
type serverProc struct {
	cmd     *exec.Cmd
	url     string
	exited  chan struct{}
	waitErr error
	logPath string
}

func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// serverArgs are the flags of the server under test: no migrations, quiet
// logs, and periodic jobs that run once at start and then not during the
// measurements.
func serverArgs(addr, dataDir, databaseURL, pgUser string) []string {
	args := []string{"serve", "--addr", addr, "--data-dir", dataDir, "--migrate=false", "--log-level", "warn",
		"--periodic-interval", "1h", "--seed-demo-if-empty=false", "--shutdown-timeout", "10s", "--pg-user", pgUser}
	if databaseURL != "" {
		args = append(args, "--database-url", databaseURL)
	}
	return args
}

// startServer runs exe with args and waits until /readyz answers 200; it
// returns how long that took from the exec.
func startServer(ctx context.Context, exe string, args []string, addr, logPath string) (*serverProc, time.Duration, error) {
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, 0, err
	}
	defer logf.Close()
	fmt.Fprintf(logf, "\n=== %s %s\n", time.Now().Format(time.RFC3339), strings.Join(redact(args), " "))
	cmd := exec.Command(exe, args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	// Keep the server's environment from choosing another database.
	cmd.Env = withoutEnv(os.Environ(), "DATABASE_URL", "SAMVERKAN_DATA_DIR", "SAMVERKAN_SEED_DEMO", "SAMVERKAN_ADDR")
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
	p := &serverProc{cmd: cmd, url: "http://" + addr, exited: make(chan struct{}), logPath: logPath}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return nil, 0, fmt.Errorf("start the server: %w", err)
	}
	go func() {
		p.waitErr = cmd.Wait()
		close(p.exited)
	}()
	took, err := waitReady(ctx, p.url, start, p.exited)
	if err != nil {
		_ = p.Stop()
		return nil, 0, fmt.Errorf("%w (see %s)", err, logPath)
	}
	return p, took, nil
}

func withoutEnv(env []string, names ...string) []string {
	out := env[:0:0]
	for _, kv := range env {
		name, _, _ := strings.Cut(kv, "=")
		drop := false
		for _, n := range names {
			drop = drop || n == name
		}
		if !drop {
			out = append(out, kv)
		}
	}
	return out
}

func redact(args []string) []string {
	out := append([]string(nil), args...)
	for i := range out {
		if i > 0 && out[i-1] == "--database-url" {
			out[i] = "(database url)"
		}
	}
	return out
}

// waitReady polls url/readyz until it answers 200 and returns the time
// since start.
func waitReady(ctx context.Context, url string, start time.Time, exited <-chan struct{}) (time.Duration, error) {
	client := &http.Client{Timeout: time.Second}
	deadline := start.Add(2 * time.Minute)
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url+"/readyz", nil)
		resp, err := client.Do(req)
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return time.Since(start), nil
			}
		}
		select {
		case <-exited:
			return 0, errors.New("the server exited during start-up")
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-time.After(5 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return 0, errors.New("the server was not ready within 2 minutes")
		}
	}
}

func (p *serverProc) URL() string { return p.url }
func (p *serverProc) PID() int    { return p.cmd.Process.Pid }

// Stop asks the server to shut down (SIGTERM) and waits for it.
func (p *serverProc) Stop() error {
	select {
	case <-p.exited:
		return nil
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
		var ee *exec.ExitError
		if errors.As(p.waitErr, &ee) && ee.ExitCode() > 0 {
			return fmt.Errorf("the server exited with %d (see %s)", ee.ExitCode(), p.logPath)
		}
		return nil
	case <-time.After(40 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.exited
		return errors.New("the server did not stop within 40 s and was killed")
	}
}

// serverInProc runs the service inside this process, for CPU profiles of
// the service's code (the load generator shows up in them too, under its
// own functions).
type serverInProc struct {
	app *app.App
	url string
}

// statementCounter counts the SQL statements the in-process service runs.
type statementCounter struct{ n atomic.Int64 }

func (c *statementCounter) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	c.n.Add(1)
	return ctx
}

func (c *statementCounter) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

// startInProc starts the service in this process; people, when given, are
// offered on the dev sign-in page (dev mode on), for the signed-in pages.
func startInProc(ctx context.Context, dataDir, databaseURL string, counter *statementCounter, people ...web.DevPerson) (*serverInProc, time.Duration, error) {
	cfg, err := config.Defaults()
	if err != nil {
		return nil, 0, err
	}
	cfg.DatabaseURL, cfg.DataDir, cfg.Migrate, cfg.PeriodicInterval, cfg.SeedDemoIfEmpty = databaseURL, dataDir, false, time.Hour, false
	if len(people) > 0 {
		cfg.Dev, cfg.OIDCIssuer = true, ""
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, 0, err
	}
	start := time.Now()
	a, err := app.Open(ctx, app.Options{Config: cfg, Mode: app.ModeServe, Version: "bench", Listener: ln, QueryTracer: counter, DevPeople: people,
		Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))})
	if err != nil {
		ln.Close()
		return nil, 0, err
	}
	if err := a.Start(ctx); err != nil {
		_ = a.Close()
		return nil, 0, err
	}
	s := &serverInProc{app: a, url: "http://" + a.Addr()}
	took, err := waitReady(ctx, s.url, start, nil)
	if err != nil {
		_ = a.Close()
		return nil, 0, err
	}
	return s, took, nil
}

func (s *serverInProc) URL() string { return s.url }
func (s *serverInProc) PID() int    { return 0 }
func (s *serverInProc) Stop() error { return s.app.Close() }
