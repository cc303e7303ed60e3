package pgembed

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// ErrBinariesNotFound is returned when no PostgreSQL server binaries
// (initdb and postgres) can be found on this machine.
var ErrBinariesNotFound = errors.New("PostgreSQL server binaries (initdb, postgres) not found; install them with: apt-get install -y postgresql (as root), or set DATABASE_URL to an existing server")

// FindBinDir returns the directory holding initdb and postgres. It looks, in
// order, at PATH, at `pg_config --bindir`, and at the newest
// /usr/lib/postgresql/*/bin (Debian and Ubuntu keep the server there, outside
// PATH).
func FindBinDir() (string, error) {
	if p, err := exec.LookPath("initdb"); err == nil {
		if real, err := filepath.EvalSymlinks(p); err == nil && hasServer(filepath.Dir(real)) {
			return filepath.Dir(real), nil
		}
	}
	if out, err := exec.Command("pg_config", "--bindir").Output(); err == nil {
		dir := strings.TrimSpace(string(out))
		if hasServer(dir) {
			return dir, nil
		}
	}
	if dir := newestDebianBinDir("/usr/lib/postgresql"); dir != "" {
		return dir, nil
	}
	return "", ErrBinariesNotFound
}

func newestDebianBinDir(root string) string {
	entries, err := os.ReadDir(root)
	if err != nil {
		return ""
	}
	var versions []int
	for _, e := range entries {
		if v, err := strconv.Atoi(e.Name()); err == nil && hasServer(filepath.Join(root, e.Name(), "bin")) {
			versions = append(versions, v)
		}
	}
	if len(versions) == 0 {
		return ""
	}
	sort.Ints(versions)
	return filepath.Join(root, strconv.Itoa(versions[len(versions)-1]), "bin")
}

func hasServer(dir string) bool {
	for _, name := range []string{"initdb", "postgres"} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil || fi.IsDir() || fi.Mode()&0o111 == 0 {
			return false
		}
	}
	return true
}

func (c *Cluster) bin(name string) string { return filepath.Join(c.binDir, name) }

func checkBinDir(dir string) error {
	if !hasServer(dir) {
		return fmt.Errorf("%s has no initdb and postgres: %w", dir, ErrBinariesNotFound)
	}
	return nil
}
