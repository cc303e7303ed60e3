package registry_test

import (
	"context"
	"log/slog"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/samverkan/samverkan/internal/authz"
	"github.com/samverkan/samverkan/internal/registry"
	"github.com/samverkan/samverkan/internal/store"
)

// BenchmarkOthersReadDuringRegistrationFlood measures what issue 15's
// flood costs other people: one signed-in person registers 2,000
// organisations on instance a as fast as one client can, each granting a
// role; meanwhile an official lists 50 organisations on instance b,
// asking for each whether they may see its contact details. It reports the
// official's p50 and p99 idle, during the flood without a limit (every
// registration commits and changes the policy), and during the same flood
// under the default limit (20 an hour: the rest are refused). The target
// is flood-p99 within 2x of idle-p99.
//
// Each run does the whole measurement once (b.N is not used).
func BenchmarkOthersReadDuringRegistrationFlood(b *testing.B) {
	const flood = 2000
	in := newInstances(b)
	log := slog.New(slog.DiscardHandler)
	official := in.person(b, "Official", "region_official@region")
	others := in.person(b, "Others")
	// A registry of some size to list.
	seed := registry.New(in.sdb, in.a, in.clock, log, registry.WithRegistrationsPerHour(0))
	for i := range 200 {
		_, err := seed.RegisterOrganisation(context.Background(), others, organisation(100000+i))
		require.NoError(b, err)
	}

	read := func() time.Duration {
		start := time.Now()
		orgs, err := seed.ListOrganisations(context.Background(), store.OrganisationPage{Limit: 50})
		require.NoError(b, err)
		for _, o := range orgs {
			if !in.b.Can(official, "organisation.read_private", authz.OrgScope(o.ID), authz.ScopeRegion) {
				b.Fatal("the official may not read an organisation's contact details")
			}
		}
		return time.Since(start)
	}
	// readWhile reads until stop is closed (or n reads without it).
	readWhile := func(stop <-chan struct{}, n int) []time.Duration {
		var out []time.Duration
		for {
			select {
			case <-stop:
				return out
			default:
			}
			out = append(out, read())
			if stop == nil && len(out) == n {
				return out
			}
		}
	}
	floodWith := func(reg *registry.Service, first int) (lat []time.Duration, took time.Duration, committed int64) {
		flooder := in.person(b, "Flooder"+time.Now().Format("150405.000000"))
		stop := make(chan struct{})
		var ok atomic.Int64
		start := time.Now()
		go func() {
			defer close(stop)
			for i := range flood {
				if _, err := reg.RegisterOrganisation(context.Background(), flooder, organisation(first+i)); err == nil {
					ok.Add(1)
				}
			}
		}()
		lat = readWhile(stop, 0)
		return lat, time.Since(start), ok.Load()
	}

	b.ResetTimer()
	readWhile(nil, 200) // warm the caches
	idle := readWhile(nil, 2000)
	reloads := in.b.Reloads()
	unlimited, tookUnlimited, committed := floodWith(registry.New(in.sdb, in.a, in.clock, log, registry.WithRegistrationsPerHour(0)), 0)
	limited, tookLimited, committedLimited := floodWith(registry.New(in.sdb, in.a, in.clock, log), flood)
	b.StopTimer()

	idleP99 := pct(idle, 99)
	b.ReportMetric(ms(pct(idle, 50)), "idle-p50-ms")
	b.ReportMetric(ms(idleP99), "idle-p99-ms")
	b.ReportMetric(ms(pct(unlimited, 50)), "flood-p50-ms")
	b.ReportMetric(ms(pct(unlimited, 99)), "flood-p99-ms")
	b.ReportMetric(ms(pct(unlimited, 100)), "flood-max-ms")
	b.ReportMetric(float64(pct(unlimited, 99))/float64(idleP99), "flood-p99/idle-p99")
	b.ReportMetric(float64(committed)/tookUnlimited.Seconds(), "flood-registrations/s")
	b.ReportMetric(ms(pct(limited, 99)), "limited-flood-p99-ms")
	b.ReportMetric(float64(pct(limited, 99))/float64(idleP99), "limited-p99/idle-p99")
	b.ReportMetric(float64(flood)/tookLimited.Seconds(), "limited-attempts/s")
	b.ReportMetric(float64(in.b.Reloads()-reloads), "reloads")
	b.Logf("idle %d reads; flood of %d registrations (%d committed) in %v, %d reads; limited flood of %d (%d committed) in %v, %d reads",
		len(idle), flood, committed, tookUnlimited.Round(time.Millisecond), len(unlimited),
		flood, committedLimited, tookLimited.Round(time.Millisecond), len(limited))
}

func pct(d []time.Duration, p int) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	i := (len(s)*p + 99) / 100
	return s[max(0, min(i, len(s))-1)]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
