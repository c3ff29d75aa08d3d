//go:build !js

package graphs

import (
	"reflect"
	"strings"
	"testing"

	"github.com/gomlx/go-xla/pkg/pjrt"
)

func TestParseClientOptions(t *testing.T) {
	got, err := parseClientOptions(" preallocate=false, memory_fraction=0.3,allocator=platform,visible=2,,")
	if err != nil {
		t.Fatal(err)
	}
	want := pjrt.NamedValuesMap{"preallocate": false, "memory_fraction": float32(0.3), "allocator": "platform", "visible": int64(2)}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %#v, want %#v", got, want)
	}
	if got, err := parseClientOptions(""); err != nil || got == nil || len(got) != 0 {
		t.Fatalf("empty spec: %v, %v (want an empty, non-nil map)", got, err)
	}
	for _, bad := range []string{"preallocate", "=1", "a=1,a=2", "memory_fraction=NaN", "memory_fraction=inf", "memory_fraction=1e999"} {
		if _, err := parseClientOptions(bad); err == nil || !strings.Contains(err.Error(), XLAOptionsEnv) {
			t.Errorf("%q: error %v, want one naming $%s", bad, err, XLAOptionsEnv)
		}
	}
}
