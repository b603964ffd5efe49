package fail

import (
	"errors"
	"fmt"
	"io/fs"
	"testing"
)

func TestKindsKeepTheChain(t *testing.T) {
	err := fmt.Errorf("restore: %w", Refused(fs.ErrNotExist, "put the file back"))
	if !errors.Is(err, ErrRefused) || !errors.Is(err, fs.ErrNotExist) || errors.Is(err, ErrVerify) {
		t.Fatalf("chain of %v is wrong", err)
	}
	var e *Error
	if !errors.As(err, &e) || e.NextStep() != "put the file back" {
		t.Fatalf("hint lost: %v", err)
	}
	if errors.Is(Hint(fs.ErrClosed, "x"), ErrRefused) || Hint(nil, "x") != nil {
		t.Fatal("Hint gives no kind, and nil stays nil")
	}
	if !errors.Is(Verify(errors.New("bad sig"), ""), ErrVerify) {
		t.Fatal("Verify is not ErrVerify")
	}
}
