package template

import "text/template/parse"

// instrument inserts the budget's calls into every parsed tree and returns
// the names of the functions the trees call. It starts every list (a body of
// if, range, with, their else, a template) with a step, brackets every
// template body with enter and leave, ends every printing action with out
// and every range pipeline with rangeOver.
//
// The inserted nodes are built from exported fields; only the identifier
// gets its tree. Node.tree() is nil for the others, which ErrorContext
// handles by using the executing template's tree, the one they are in. The
// trees are never copied (Copy would need the tree).
func instrument(trees map[string]*parse.Tree) map[string]bool {
	used := map[string]bool{}
	for _, tr := range trees {
		w := walker{tr: tr, used: used}
		w.list(tr.Root, enterFunc)
		tr.Root.Nodes = append(tr.Root.Nodes, w.action(tr.Root.Pos, leaveFunc))
	}
	return used
}

// walker instruments one tree.
type walker struct {
	tr   *parse.Tree
	used map[string]bool
}

func (w *walker) list(l *parse.ListNode, first string) {
	if l == nil {
		return
	}
	for _, n := range l.Nodes {
		w.node(n)
	}
	l.Nodes = append([]parse.Node{w.action(l.Pos, first)}, l.Nodes...)
}

func (w *walker) node(n parse.Node) {
	switch n := n.(type) {
	case *parse.ActionNode:
		w.pipe(n.Pipe)
		if len(n.Pipe.Decl) == 0 { // the action prints its value
			n.Pipe.Cmds = append(n.Pipe.Cmds, w.command(n.Pos, outFunc))
		}
	case *parse.IfNode:
		w.branch(&n.BranchNode)
	case *parse.RangeNode:
		w.branch(&n.BranchNode)
		n.Pipe.Cmds = append(n.Pipe.Cmds, w.command(n.Pos, rangeFunc))
	case *parse.WithNode:
		w.branch(&n.BranchNode)
	case *parse.TemplateNode:
		w.pipe(n.Pipe)
	}
}

func (w *walker) branch(b *parse.BranchNode) {
	w.pipe(b.Pipe)
	w.list(b.List, stepFunc)
	w.list(b.ElseList, stepFunc)
}

// pipe records the functions a pipeline calls, in nested pipelines too.
func (w *walker) pipe(p *parse.PipeNode) {
	if p == nil {
		return
	}
	for _, c := range p.Cmds {
		for _, arg := range c.Args {
			w.arg(arg)
		}
	}
}

func (w *walker) arg(n parse.Node) {
	switch n := n.(type) {
	case *parse.IdentifierNode:
		w.used[n.Ident] = true
	case *parse.PipeNode:
		w.pipe(n)
	case *parse.ChainNode:
		w.arg(n.Node)
	}
}

// action builds {{name}}, which prints the empty string name returns.
func (w *walker) action(pos parse.Pos, name string) *parse.ActionNode {
	pipe := &parse.PipeNode{NodeType: parse.NodePipe, Pos: pos, Cmds: []*parse.CommandNode{w.command(pos, name)}}
	return &parse.ActionNode{NodeType: parse.NodeAction, Pos: pos, Pipe: pipe}
}

func (w *walker) command(pos parse.Pos, name string) *parse.CommandNode {
	id := parse.NewIdentifier(name).SetTree(w.tr).SetPos(pos)
	return &parse.CommandNode{NodeType: parse.NodeCommand, Pos: pos, Args: []parse.Node{id}}
}
