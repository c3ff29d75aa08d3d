package main

import (
	"fmt"
	"math"
	"time"
)

// The checks below make the one-line usage errors of numeric flags: the flag, the value given and the
// allowed range, e.g. "--batch -1: want 1…10000". zero, when not "", says what 0 means (a default,
// "all", "none") and allows it besides the range.

func checkInt(name string, v, lo, hi int, zero string) error {
	if (zero != "" && v == 0) || (v >= lo && v <= hi) {
		return nil
	}
	if zero != "" {
		return usagef("--%s %d: want 0 (%s) or %d…%d", name, v, zero, lo, hi)
	}
	return usagef("--%s %d: want %d…%d", name, v, lo, hi)
}

// checkNonNegative allows any v ≥ 0, zero meaning what zero says.
func checkNonNegative(name string, v int, zero string) error {
	if v >= 0 {
		return nil
	}
	return usagef("--%s %d: want ≥ 0 (0: %s)", name, v, zero)
}

// checkFloat allows (lo, hi] when loOpen, else [lo, hi]; never NaN or an infinity.
func checkFloat(name string, v, lo, hi float64, loOpen bool, zero string) error {
	ok := !math.IsNaN(v) && v <= hi && (v > lo || (!loOpen && v == lo))
	if ok || (zero != "" && v == 0) {
		return nil
	}
	bracket := "["
	if loOpen {
		bracket = "("
	}
	want := fmt.Sprintf("a number in %s%g, %g]", bracket, lo, hi)
	if zero != "" {
		want = fmt.Sprintf("0 (%s) or %s", zero, want)
	}
	return usagef("--%s %g: want %s", name, v, want)
}

// checkDuration allows durations ≥ lo (lo 0: zero means what zero says).
func checkDuration(name string, d, lo time.Duration, zero string) error {
	if d >= lo {
		return nil
	}
	if lo == 0 {
		return usagef("--%s %s: want a duration ≥ 0 (0: %s)", name, d, zero)
	}
	return usagef("--%s %s: want a duration ≥ %s", name, d, lo)
}

// firstError returns the first non-nil error of checks made in flag order.
func firstError(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
