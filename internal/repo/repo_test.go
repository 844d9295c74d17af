package repo

import (
	"net"
	"os"
	"path/filepath"
	"testing"
)

// TestChooseAddrsAvoidsOtherRepos: a second repo beside the first gets
// other ports than the first's, and neither set is in use.
func TestChooseAddrsAvoidsOtherRepos(t *testing.T) {
	t.Setenv(EnvPath, "")
	t.Setenv("HOME", t.TempDir())
	parent := t.TempDir()
	a1, _ := ChooseAddrs(filepath.Join(parent, "a"))
	if _, err := InitConfig(filepath.Join(parent, "a"), a1.Config()); err != nil {
		t.Fatal(err)
	}
	a2, why := ChooseAddrs(filepath.Join(parent, "b"))
	if a2.API == a1.API || a2.Gateway == a1.Gateway || a2.ListenPort == a1.ListenPort || a2.API == a1.Gateway {
		t.Errorf("second repo got %+v, first %+v: want distinct ports", a2, a1)
	}
	if a1.API == DefaultAPI && why == "" {
		t.Errorf("the defaults were passed over without a reason")
	}
	r, err := InitConfig(filepath.Join(parent, "b"), a2.Config())
	if err != nil {
		t.Fatal(err)
	}
	if r.Config.API != a2.API || r.Config.Gateway != a2.Gateway || len(r.Config.Listen) != 4 {
		t.Errorf("config %+v does not hold %+v", r.Config, a2)
	}
}

// TestChooseAddrsAvoidsBusyPorts: a port something listens on is passed
// over, with the reason.
func TestChooseAddrsAvoidsBusyPorts(t *testing.T) {
	t.Setenv(EnvPath, "")
	t.Setenv("HOME", t.TempDir())
	first, _ := ChooseAddrs(filepath.Join(t.TempDir(), "a"))
	ln, err := net.Listen("tcp", first.API)
	if err != nil {
		t.Skipf("port %s taken meanwhile: %v", first.API, err)
	}
	defer ln.Close()
	got, why := ChooseAddrs(filepath.Join(t.TempDir(), "b"))
	if got.API == first.API {
		t.Errorf("got %s, which is in use", got.API)
	}
	if why == "" && first.API == DefaultAPI {
		t.Errorf("no reason given for passing over %s", first.API)
	}
}

// TestOpenMakesSecretsPrivate: a repo left readable by others is narrowed
// when it is opened.
func TestOpenMakesSecretsPrivate(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "r")
	r, err := Init(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.APIToken(); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"", keyFile, configFile, tokenFile} {
		mode := os.FileMode(0o644)
		if name == "" {
			mode = 0o755
		}
		if err := os.Chmod(filepath.Join(dir, name), mode); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := Open(dir); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]os.FileMode{"": 0o700, keyFile: 0o600, configFile: 0o600, tokenFile: 0o600} {
		st, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if got := st.Mode().Perm(); got != want {
			t.Errorf("%q: got %v, want %v", name, got, want)
		}
	}
}
