package template

import (
	"errors"
	"testing"
)

func TestSession_ManyTemplatesOfOneObjectShareOneBudget(t *testing.T) {
	s := NewSession()
	text := `{{ genPrivateKey "ecdsa" | len }}`
	for i := range 2 {
		if _, err := s.Render("a", text, nil); err != nil {
			t.Fatalf("template %d within the shared units: %v", i, err)
		}
	}
	_, err := s.Render("c", text, nil)
	var te *Error
	if !errors.As(err, &te) || !te.Budget {
		t.Fatalf("a third expensive template on the same session: got %v, want a budget error", err)
	}
	if _, err := NewSession().Render("d", text, nil); err != nil {
		t.Fatalf("a new session starts afresh: %v", err)
	}
}
