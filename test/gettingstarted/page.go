package gettingstarted

import (
	"bufio"
	"bytes"
	"fmt"
	"strings"
)

// Skip is how a ```sh block of the page begins when the docs test does not run
// it; the rest of the line says why, for the reader as much as for the test.
const Skip = "# not run by the docs test:"

// Block is one fenced ```sh block of a Markdown page.
type Block struct {
	// Line is the line number of the opening fence, for messages.
	Line int
	// Section is the nearest heading above the block.
	Section string
	// Script is the block's text, without the fences.
	Script string
	// Skipped tells whether the block begins with Skip.
	Skipped bool
}

// Blocks returns the ```sh blocks of a Markdown page in order. Other fences
// (yaml, console, plain) are documentation only. An unclosed fence is an
// error: the page would render wrongly too.
func Blocks(page []byte) ([]Block, error) {
	var (
		blocks  []Block
		cur     *Block
		fence   string
		section string
		text    strings.Builder
	)
	sc := bufio.NewScanner(bytes.NewReader(page))
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		trimmed := strings.TrimSpace(line)
		switch {
		case fence != "" && trimmed == fence:
			if cur != nil {
				cur.Script = text.String()
				cur.Skipped = strings.HasPrefix(strings.TrimSpace(cur.Script), Skip)
				blocks = append(blocks, *cur)
			}
			fence, cur = "", nil
		case fence != "":
			if cur != nil {
				text.WriteString(line + "\n")
			}
		case strings.HasPrefix(trimmed, "```"):
			fence = trimmed[:len(trimmed)-len(strings.TrimLeft(trimmed, "`"))]
			if info := strings.TrimSpace(strings.TrimPrefix(trimmed, fence)); info == "sh" || info == "bash" {
				cur = &Block{Line: n, Section: section}
				text.Reset()
			}
		case strings.HasPrefix(trimmed, "#"):
			section = strings.TrimSpace(strings.TrimLeft(trimmed, "#"))
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read page: %w", err)
	}
	if fence != "" {
		return nil, fmt.Errorf("a %s fence is never closed", fence)
	}
	return blocks, nil
}

// Script joins the blocks that are not skipped into one bash script that
// stops at the first failing command and echoes each command it runs.
func Script(blocks []Block) string {
	var b strings.Builder
	b.WriteString("set -euo pipefail\nset -x\n")
	for _, blk := range blocks {
		if blk.Skipped {
			continue
		}
		fmt.Fprintf(&b, "\n# --- line %d (%s)\n%s", blk.Line, blk.Section, blk.Script)
	}
	return b.String()
}
