package gettingstarted

import (
	"strings"
	"testing"
)

func TestBlocks_ReadsShellFencesInOrder(t *testing.T) {
	for _, tc := range []struct {
		name    string
		page    string
		want    []Block
		wantErr string
	}{
		{
			name: "sh and bash blocks are read, other languages are not",
			page: "# A\n```sh\necho a\n```\n```yaml\nk: v\n```\n## B\n```bash\necho b\n```\n",
			want: []Block{{Line: 2, Section: "A", Script: "echo a\n"}, {Line: 9, Section: "B", Script: "echo b\n"}},
		},
		{
			name: "a block opening with the skip comment is marked skipped",
			page: "```sh\n# not run by the docs test: needs a cluster\nmake deploy\n```\n",
			want: []Block{{Line: 1, Script: "# not run by the docs test: needs a cluster\nmake deploy\n", Skipped: true}},
		},
		{
			name: "a heading-like line inside a fence is script, not a section",
			page: "# Top\n```sh\n# a comment\necho x\n```\n",
			want: []Block{{Line: 2, Section: "Top", Script: "# a comment\necho x\n"}},
		},
		{
			name: "a longer fence holds a shorter one",
			page: "````md\n```sh\necho no\n```\n````\n",
			want: nil,
		},
		{
			name:    "an unclosed fence is an error",
			page:    "```sh\necho a\n",
			wantErr: "never closed",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Blocks([]byte(tc.page))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("got %d blocks %+v, want %d", len(got), got, len(tc.want))
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Errorf("block %d = %+v, want %+v", i, got[i], tc.want[i])
				}
			}
		})
	}
}

func TestScript_LeavesOutSkippedBlocksAndStopsOnFailure(t *testing.T) {
	s := Script([]Block{{Line: 1, Script: "echo run\n"}, {Line: 5, Script: Skip + " x\nmake deploy\n", Skipped: true}})
	if !strings.HasPrefix(s, "set -euo pipefail\n") || !strings.Contains(s, "echo run") || strings.Contains(s, "make deploy") {
		t.Errorf("script:\n%s", s)
	}
}
