package main

import (
	"fmt"
	"os"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// isTerminal reports whether stderr is a terminal: progress bars only draw there, so piped and
// scripted runs stay quiet.
func isTerminal() bool { return term.IsTerminal(int(os.Stderr.Fd())) }

// newBar returns a progress bar on stderr, or nil when stderr is not a terminal.
func newBar(total int, description string) *progressbar.ProgressBar {
	if !isTerminal() {
		return nil
	}
	return progressbar.NewOptions(total,
		progressbar.OptionSetWriter(os.Stderr),
		progressbar.OptionSetDescription(description),
		progressbar.OptionShowCount(),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionThrottle(200*time.Millisecond),
		progressbar.OptionClearOnFinish(),
		progressbar.OptionSetWidth(30),
	)
}

func formatDuration(d time.Duration) string {
	if d < time.Minute {
		return fmt.Sprintf("%.1fs", d.Seconds())
	}
	return d.Round(time.Second).String()
}
