package authz

import (
	"context"
	"time"
)

// Change notices reach this instance in commit order, numbered without
// gaps (store.NextPolicyVersion). The watcher's goroutine only queues them;
// one applier goroutine takes everything queued at once and applies it
// under a single hold of the enforcer's write lock, so a burst of role
// changes costs one short pause, whatever the size of the policy. It
// reloads everything only when a number is missing (a notice was missed),
// when the watcher reconnected, or when a notice says so.

// catchUpWait is how long Remember and Forget wait for this instance's own
// change to come back as a notice before they reload instead.
const catchUpWait = time.Second

// receive is the watcher's update callback.
func (p *PolicyEnforcer) receive(payload string) {
	p.mu.Lock()
	p.pending = append(p.pending, payload)
	p.mu.Unlock()
	p.signal()
}

func (p *PolicyEnforcer) signal() {
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

func (p *PolicyEnforcer) applyLoop() {
	defer close(p.stopped)
	for {
		select {
		case <-p.stop:
			return
		case <-p.wake:
		}
		p.mu.Lock()
		batch := p.pending
		p.pending = nil
		p.mu.Unlock()
		if len(batch) > 0 {
			p.applying.Lock()
			p.applyBatch(batch)
			p.applying.Unlock()
		}
	}
}

// applyBatch applies notices in order. Call it holding p.applying.
func (p *PolicyEnforcer) applyBatch(batch []string) {
	v := p.version.Load()
	var notices []policyNotice
	reload := false
	for _, payload := range batch {
		n, ok := parseNotice(payload)
		switch {
		case !ok:
			// A reconnect, Watcher.Update, or a payload of another kind:
			// changes may have been missed.
			reload = true
		case n.Seq <= v:
			// Already included in what was loaded or applied.
		case n.Seq != v+1 || n.Reload:
			reload = true
			v = n.Seq
		default:
			notices = append(notices, n)
			v = n.Seq
		}
	}
	if reload {
		if err := p.reload(); err != nil {
			p.log.Error("reload the authorization policy", "err", err)
		}
		return
	}
	if len(notices) == 0 {
		return
	}
	subjects, everyone, err := p.applyLines(notices)
	if err != nil {
		p.log.Error("apply authorization policy changes; reloading", "err", err)
		if err := p.reload(); err != nil {
			p.log.Error("reload the authorization policy", "err", err)
		}
		return
	}
	// Forget decisions only after the enforcer has the new lines: a check
	// that starts after this sees the new policy.
	if everyone {
		p.forgetDecisions()
	} else {
		cache := p.decisions.Load()
		for sub := range subjects {
			cache.forget(sub)
		}
	}
	p.applied.Add(int64(len(notices)))
	p.advance(v)
}

// applyLines puts the notices' lines into the enforcer's memory under one
// hold of its write lock. It returns the subjects whose role assignments
// changed, or everyone when a permission line changed.
func (p *PolicyEnforcer) applyLines(notices []policyNotice) (subjects map[string]bool, everyone bool, err error) {
	lock := p.e.GetLock()
	lock.Lock()
	defer lock.Unlock()
	m := p.e.GetModel()
	subjects = map[string]bool{}
	for _, n := range notices {
		for _, l := range n.Add {
			sec, vals, err := modelRule(lineRule(l), m)
			if err != nil {
				return nil, false, err
			}
			// The Self* methods change memory only: no adapter, no watcher.
			if _, err := p.e.Enforcer.SelfAddPolicy(sec, l[0], vals); err != nil {
				return nil, false, err
			}
			everyone = everyone || sec != "g"
			subjects[vals[0]] = true
		}
		for _, l := range n.Remove {
			sec, vals, err := modelRule(lineRule(l), m)
			if err != nil {
				return nil, false, err
			}
			if _, err := p.e.Enforcer.SelfRemovePolicy(sec, l[0], vals); err != nil {
				return nil, false, err
			}
			everyone = everyone || sec != "g"
			subjects[vals[0]] = true
		}
	}
	return subjects, everyone, nil
}

// reload reads the whole policy and the number of the last change it
// includes. Call it holding p.applying. The rules are read under the
// enforcer's read lock, so checks go on meanwhile; only the swap takes the
// write lock.
func (p *PolicyEnforcer) reload() error {
	if err := p.e.LoadPolicy(); err != nil {
		return err
	}
	p.forgetDecisions()
	p.reloads.Add(1)
	p.advance(p.adapter.LoadedVersion())
	return nil
}

// advance records that the changes up to v are applied and wakes whoever
// waits for them.
func (p *PolicyEnforcer) advance(v int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if v > p.version.Load() {
		p.version.Store(v)
	}
	close(p.progress)
	p.progress = make(chan struct{})
}

// catchUp returns once this instance has applied every change committed
// before it was called; it reloads when the notices do not come in time.
func (p *PolicyEnforcer) catchUp() {
	ctx, cancel := context.WithTimeout(context.Background(), catchUpWait)
	defer cancel()
	want, err := p.db.PolicyVersion(ctx)
	if err != nil {
		p.log.Warn("read the policy version; reloading", "err", err)
		_ = p.Reload()
		return
	}
	for {
		p.mu.Lock()
		ch := p.progress
		p.mu.Unlock()
		if p.version.Load() >= want {
			return
		}
		select {
		case <-ch:
		case <-ctx.Done():
			p.log.Warn("change notices are late; reloading the authorization policy", "want", want, "have", p.version.Load())
			p.applying.Lock()
			if p.version.Load() < want {
				if err := p.reload(); err != nil {
					p.log.Error("reload the authorization policy", "err", err)
				}
			}
			p.applying.Unlock()
			return
		}
	}
}

// Version is the number of the last policy change this instance has
// applied.
func (p *PolicyEnforcer) Version() int64 { return p.version.Load() }

// Reloads counts the full reloads after the first load.
func (p *PolicyEnforcer) Reloads() int64 { return p.reloads.Load() }

// Applied counts the notices applied line by line since start.
func (p *PolicyEnforcer) Applied() int64 { return p.applied.Load() }
