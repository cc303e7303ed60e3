package bench

import (
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// errExhausted ends a worker whose pool of instances is used up.
var errExhausted = errors.New("pool exhausted")

// Measurement is one load run: a fixed number of clients, each issuing
// its next request as soon as the previous one is answered, for a fixed
// time after a warm-up.
type Measurement struct {
	Requests   int     `json:"requests"`
	Errors     int     `json:"errors"`
	FirstError string  `json:"first_error,omitempty"`
	Seconds    float64 `json:"seconds"`
	RPS        float64 `json:"rps"`
	P50        float64 `json:"p50_ms"`
	P95        float64 `json:"p95_ms"`
	P99        float64 `json:"p99_ms"`
	Max        float64 `json:"max_ms"`
	// PoolExhausted: the instances ran out before the time was up; the
	// rate is over the time it took to use them.
	PoolExhausted bool `json:"pool_exhausted,omitempty"`
	// CPU time per request of the server process, of PostgreSQL (all the
	// cluster's processes) and of this process (the load generator and,
	// for the raw baseline, the client doing the work); machine busy is
	// the share of all cores in use.
	ServerCPUMs    float64 `json:"server_cpu_ms_per_req,omitempty"`
	DBCPUMs        float64 `json:"db_cpu_ms_per_req,omitempty"`
	ClientCPUMs    float64 `json:"client_cpu_ms_per_req"`
	MachineBusyPct float64 `json:"machine_busy_percent"`
	MaxRSSMB       float64 `json:"max_rss_mb,omitempty"`
	// StatementsPerReq is counted when the service runs in this process.
	StatementsPerReq float64 `json:"statements_per_req,omitempty"`
}

// runLoad runs op from conc workers for warmup+dur and measures the
// requests that started after the warm-up; watch, when not nil, starts a
// monitor of the processes at the end of the warm-up.
func runLoad(ctx context.Context, conc int, warmup, dur time.Duration, op func(ctx context.Context, worker int) error, watch func() *monitor) Measurement {
	start := time.Now()
	from, deadline := start.Add(warmup), start.Add(warmup+dur)
	var monMu sync.Mutex
	var mon *monitor
	if watch != nil {
		t := time.AfterFunc(warmup, func() {
			monMu.Lock()
			mon = watch()
			monMu.Unlock()
		})
		defer t.Stop()
	}
	type worker struct {
		lat       []time.Duration
		errs      int
		firstErr  error
		lastEnd   time.Time
		exhausted bool
	}
	ws := make([]worker, conc)
	var wg sync.WaitGroup
	for i := range ws {
		wg.Add(1)
		go func(w *worker, i int) {
			defer wg.Done()
			w.lat = make([]time.Duration, 0, 4096)
			for ctx.Err() == nil {
				t0 := time.Now()
				if !t0.Before(deadline) {
					return
				}
				err := op(ctx, i)
				t1 := time.Now()
				if errors.Is(err, errExhausted) {
					w.exhausted = true
					return
				}
				if t0.Before(from) {
					continue
				}
				w.lastEnd = t1
				if err != nil {
					if ctx.Err() != nil {
						return
					}
					w.errs++
					if w.firstErr == nil {
						w.firstErr = err
					}
					continue
				}
				w.lat = append(w.lat, t1.Sub(t0))
			}
		}(&ws[i], i)
	}
	wg.Wait()
	var m Measurement
	var all []time.Duration
	var last time.Time
	exhausted := true
	for _, w := range ws {
		all = append(all, w.lat...)
		m.Errors += w.errs
		if w.firstErr != nil && m.FirstError == "" {
			m.FirstError = w.firstErr.Error()
		}
		if w.lastEnd.After(last) {
			last = w.lastEnd
		}
		exhausted = exhausted && w.exhausted
	}
	m.Requests = len(all)
	window := dur
	if exhausted && last.After(from) {
		window = last.Sub(from)
		m.PoolExhausted = last.Before(deadline)
	}
	m.Seconds = round(window.Seconds(), 2)
	if m.Seconds > 0 {
		m.RPS = round(float64(m.Requests)/window.Seconds(), 1)
	}
	slices.Sort(all)
	m.P50, m.P95, m.P99 = pct(all, 0.50), pct(all, 0.95), pct(all, 0.99)
	if len(all) > 0 {
		m.Max = ms(all[len(all)-1])
	}
	monMu.Lock()
	if mon != nil {
		mon.finish(&m)
	}
	monMu.Unlock()
	return m
}

func pct(sorted []time.Duration, q float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	return ms(sorted[max(0, min(i, len(sorted)-1))])
}

func ms(d time.Duration) float64 { return round(float64(d)/float64(time.Millisecond), 2) }

func round(x float64, places int) float64 {
	p := math.Pow(10, float64(places))
	return math.Round(x*p) / p
}

// clockTicks is USER_HZ, the unit of /proc CPU times (100 on Linux).
const clockTicks = 100

// procCPU is a process's user+system CPU time in seconds (0 if gone).
func procCPU(pid int) float64 {
	f := procStat(pid)
	if len(f) < 13 {
		return 0
	}
	u, _ := strconv.ParseFloat(f[11], 64)
	sy, _ := strconv.ParseFloat(f[12], 64)
	return (u + sy) / clockTicks
}

// parentOf is a process's parent pid (0 if gone).
func parentOf(pid int) int {
	f := procStat(pid)
	if len(f) < 2 {
		return 0
	}
	p, _ := strconv.Atoi(f[1])
	return p
}

// procStat is the fields of /proc/<pid>/stat after the command name, which
// may contain spaces and so is skipped up to its closing parenthesis (nil
// if the process is gone).
func procStat(pid int) []string {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return nil
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return nil
	}
	return strings.Fields(s[i+1:])
}

// treeCPU is the CPU time of pid and its children (a PostgreSQL cluster:
// the postmaster and its backends).
func treeCPU(pid int) float64 {
	if pid <= 0 {
		return 0
	}
	total := procCPU(pid)
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		child, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if parentOf(child) == pid {
			total += procCPU(child)
		}
	}
	return total
}

// machineCPU returns the busy and total jiffies of all cores.
func machineCPU() (busy, total float64) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	for i, v := range f[1:] {
		x, _ := strconv.ParseFloat(v, 64)
		if i >= 8 { // guest times are already in user
			break
		}
		total += x
		if i != 3 && i != 4 { // idle, iowait
			busy += x
		}
	}
	return busy, total
}

// rssKB is a process's resident set size in KiB.
func rssKB(pid int) int64 {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return n
		}
	}
	return 0
}

// postmasterPID reads the pid of the cluster serving a data directory.
func postmasterPID(dataDir string) int {
	b, err := os.ReadFile(filepath.Join(dataDir, "postmaster.pid"))
	if err != nil {
		return 0
	}
	first, _, _ := strings.Cut(string(b), "\n")
	pid, _ := strconv.Atoi(strings.TrimSpace(first))
	return pid
}

// monitor samples a measurement's processes: the server's RSS every
// 100 ms, and CPU times at the start and the end.
type monitor struct {
	server, db int
	stop       chan struct{}
	done       chan struct{}
	maxRSS     int64

	server0, db0, self0, busy0, total0 float64

	statements  *statementCounter
	statements0 int64
}

func startMonitor(serverPID, dbPID int) *monitor {
	m := &monitor{server: serverPID, db: dbPID, stop: make(chan struct{}), done: make(chan struct{})}
	if serverPID > 0 {
		m.server0 = procCPU(serverPID)
	}
	m.db0 = treeCPU(dbPID)
	m.self0 = procCPU(os.Getpid())
	m.busy0, m.total0 = machineCPU()
	go func() {
		defer close(m.done)
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			if serverPID > 0 {
				m.maxRSS = max(m.maxRSS, rssKB(serverPID))
			}
			select {
			case <-m.stop:
				return
			case <-t.C:
			}
		}
	}()
	return m
}

// finish completes m with the CPU spent per request and the peak RSS.
func (mo *monitor) finish(m *Measurement) {
	close(mo.stop)
	<-mo.done
	busy, total := machineCPU()
	n := float64(max(1, m.Requests+m.Errors))
	if mo.server > 0 {
		m.ServerCPUMs = round((procCPU(mo.server)-mo.server0)*1000/n, 3)
		m.MaxRSSMB = round(float64(mo.maxRSS)/1024, 1)
	}
	if mo.db > 0 {
		m.DBCPUMs = round((treeCPU(mo.db)-mo.db0)*1000/n, 3)
	}
	m.ClientCPUMs = round((procCPU(os.Getpid())-mo.self0)*1000/n, 3)
	if mo.statements != nil {
		m.StatementsPerReq = round(float64(mo.statements.n.Load()-mo.statements0)/n, 2)
	}
	if total > mo.total0 {
		m.MachineBusyPct = round(100*(busy-mo.busy0)/(total-mo.total0), 1)
	}
}

// backgroundBusy is the share of the machine in use by others while this
// benchmark does nothing, over d.
func backgroundBusy(d time.Duration) float64 {
	b0, t0 := machineCPU()
	time.Sleep(d)
	b1, t1 := machineCPU()
	if t1 <= t0 {
		return 0
	}
	return round(100*(b1-b0)/(t1-t0), 1)
}
