package memlimit

import (
	"math"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"
)

func TestApplySetsTheSoftLimitToAShareOfTheContainerLimit(t *testing.T) {
	t.Cleanup(func() { debug.SetMemoryLimit(math.MaxInt64) })
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	v2 := write("memory.max", "1073741824\n")
	unlimitedV2 := write("unlimited.max", "max\n")
	unlimitedV1 := write("limit_in_bytes", "9223372036854771712\n")
	garbage := write("garbage", "lots\n")
	missing := filepath.Join(dir, "missing")
	cases := []struct {
		name      string
		env       string
		ratio     float64
		files     []string
		wantLimit int64
		wantFrom  string
		wantErr   string
	}{
		{name: "90% of a 1 GiB cgroup v2 limit", ratio: 0.9, files: []string{missing, v2}, wantLimit: 966367641, wantFrom: "0.9 of 1073741824 bytes"},
		{name: "GOMEMLIMIT wins", env: "300MiB", ratio: 0.9, files: []string{v2}, wantFrom: "GOMEMLIMIT=300MiB"},
		{name: "ratio 0 turns it off", ratio: 0, files: []string{v2}, wantFrom: "off"},
		{name: "no limit in cgroup v2", ratio: 0.9, files: []string{unlimitedV2}, wantFrom: "no container memory limit"},
		{name: "no limit in cgroup v1", ratio: 0.9, files: []string{unlimitedV1}, wantFrom: "no container memory limit"},
		{name: "no cgroup files", ratio: 0.9, files: []string{missing}, wantFrom: "no container memory limit"},
		{name: "a ratio above 1 is refused", ratio: 1.5, files: []string{v2}, wantErr: "between 0 and 1"},
		{name: "a limit that is no number is refused", ratio: 0.9, files: []string{garbage}, wantErr: "not a number of bytes"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Setenv("GOMEMLIMIT", c.env)
			debug.SetMemoryLimit(math.MaxInt64)
			got, err := Apply(c.ratio, c.files)
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, c.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Limit != c.wantLimit || !strings.Contains(got.From, c.wantFrom) {
				t.Fatalf("got %+v, want limit %d from %q", got, c.wantLimit, c.wantFrom)
			}
			want := c.wantLimit
			if want == 0 {
				want = math.MaxInt64
			}
			if now := debug.SetMemoryLimit(-1); now != want {
				t.Fatalf("the runtime's soft limit is %d, want %d", now, want)
			}
		})
	}
}
