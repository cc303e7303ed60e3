package pgembed

import (
	"fmt"
	"io/fs"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"syscall"
)

// owner is the unprivileged account the cluster runs as when this process is
// root: PostgreSQL refuses to run as root.
type owner struct {
	name   string
	uid    uint32
	gid    uint32
	groups []uint32
}

func lookupOwner(name string) (*owner, error) {
	u, err := user.Lookup(name)
	if err != nil {
		return nil, fmt.Errorf("running as root, so PostgreSQL must run as an unprivileged user, but user %q does not exist (create it, e.g. by installing the postgresql package, or set another with SAMVERKAN_PG_USER): %w", name, err)
	}
	uid, _ := strconv.ParseUint(u.Uid, 10, 32)
	gid, _ := strconv.ParseUint(u.Gid, 10, 32)
	o := &owner{name: name, uid: uint32(uid), gid: uint32(gid)}
	gids, _ := u.GroupIds()
	for _, g := range gids {
		if n, err := strconv.ParseUint(g, 10, 32); err == nil {
			o.groups = append(o.groups, uint32(n))
		}
	}
	return o, nil
}

func (o *owner) credential() *syscall.Credential {
	if o == nil {
		return nil
	}
	return &syscall.Credential{Uid: o.uid, Gid: o.gid, Groups: o.groups}
}

// checkReachable verifies that the owner can traverse every directory above
// dir. A checkout under a mode-700 home (such as /root) is not reachable by
// the postgres user, and PostgreSQL's own error for it is cryptic.
func (o *owner) checkReachable(dir string) error {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	for p := filepath.Dir(abs); ; p = filepath.Dir(p) {
		fi, err := os.Stat(p)
		if err != nil {
			return err
		}
		if !o.canTraverse(fi) {
			return fmt.Errorf("PostgreSQL runs as user %q (it refuses to run as root), but that user cannot reach %s because %s is mode %#o owned by uid %d; "+
				"put the data directory somewhere it can reach, e.g. SAMVERKAN_DATA_DIR=/var/lib/samverkan, or run as a non-root user",
				o.name, abs, p, uint32(fi.Mode().Perm()), fi.Sys().(*syscall.Stat_t).Uid)
		}
		if p == "/" || p == "." {
			return nil
		}
	}
}

func (o *owner) canTraverse(fi fs.FileInfo) bool {
	st := fi.Sys().(*syscall.Stat_t)
	mode := fi.Mode().Perm()
	switch {
	case st.Uid == o.uid:
		return mode&0o100 != 0
	case o.inGroup(st.Gid):
		return mode&0o010 != 0
	default:
		return mode&0o001 != 0
	}
}

func (o *owner) inGroup(gid uint32) bool {
	if gid == o.gid {
		return true
	}
	for _, g := range o.groups {
		if g == gid {
			return true
		}
	}
	return false
}

// chownTree gives the owner everything under dir.
func (o *owner) chownTree(dir string) error {
	if o == nil {
		return nil
	}
	return filepath.WalkDir(dir, func(p string, _ fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(p, int(o.uid), int(o.gid))
	})
}
