package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/mattn/go-isatty"
	"github.com/rs/zerolog"

	"github.com/neuraltopology/neuraltopology/sdk"
)

// newLogger builds the host's logger: a human console on a terminal (and,
// without colour, in files and CI), JSON lines with --log-format json.
func newLogger(format, level string, w io.Writer) (zerolog.Logger, error) {
	lvl, err := zerolog.ParseLevel(level)
	if err != nil || level == "" {
		return zerolog.Logger{}, fmt.Errorf("--log-level %q: want debug, info, warn or error", level)
	}
	switch format {
	case "json":
	case "console", "auto", "":
		tty := false
		if f, ok := w.(*os.File); ok {
			tty = isatty.IsTerminal(f.Fd())
		}
		w = zerolog.ConsoleWriter{Out: w, NoColor: !tty, TimeFormat: time.TimeOnly}
	default:
		return zerolog.Logger{}, fmt.Errorf("--log-format %q: want console or json", format)
	}
	return zerolog.New(w).Level(lvl).With().Timestamp().Logger(), nil
}

// pluginLogger returns an hclog logger for go-plugin whose lines, the
// host's own about a plugin and the plugin's forwarded ones, end up in log
// with the plugin's name and their level. go-plugin speaks hclog; we parse
// its JSON output rather than implement hclog's wide interface.
func pluginLogger(log zerolog.Logger) hclog.Logger {
	return hclog.New(&hclog.LoggerOptions{
		Level:      hclog.Debug,
		JSONFormat: true,
		Output:     &hclogBridge{log: log},
	})
}

// hclogBridge re-emits hclog JSON lines into zerolog.
type hclogBridge struct {
	mu  sync.Mutex
	log zerolog.Logger
	buf []byte
	// dumping holds the plugins whose stderr is a Go runtime's crash
	// dump (from a "panic:" or "fatal error:" line until go-plugin says
	// the process exited): hundreds of lines, at debug level only. The
	// host's error for the failed call quotes the first line.
	dumping map[string]bool
}

// crashStart reports whether a plugin's stderr line starts a Go
// runtime crash dump.
func crashStart(msg string) bool {
	return sdk.CrashLine(strings.TrimSpace(msg))
}

func (b *hclogBridge) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf = append(b.buf, p...)
	for {
		i := bytes.IndexByte(b.buf, '\n')
		if i < 0 {
			break
		}
		b.emit(b.buf[:i])
		b.buf = b.buf[i+1:]
	}
	return len(p), nil
}

func (b *hclogBridge) emit(line []byte) {
	var m map[string]any
	if err := json.Unmarshal(line, &m); err != nil {
		b.log.Debug().Msg(string(line))
		return
	}
	lvl := zerolog.DebugLevel
	if s, ok := m["@level"].(string); ok {
		if l, err := zerolog.ParseLevel(s); err == nil {
			lvl = l
		}
	}
	msg, _ := m["@message"].(string)
	// go-plugin's own chatter about starting and stopping processes is
	// debug detail for us, whatever level it chose.
	module, _ := m["@module"].(string)
	if !strings.Contains(module, ".") && lvl < zerolog.WarnLevel {
		lvl = zerolog.DebugLevel
	}
	// A plugin slow to exit on a loaded machine is killed, as it should
	// be; the warning would be a second line after the command's own
	// error, about nothing the user can act on.
	if !strings.Contains(module, ".") && msg == "plugin failed to exit gracefully" {
		lvl = zerolog.DebugLevel
	}
	name := pluginName(module)
	if own := !strings.Contains(module, "."); own {
		if strings.HasPrefix(msg, "plugin process exited") && b.dumping[name] {
			// The crash is the failed call's error already; a restarted
			// process logs as usual.
			delete(b.dumping, name)
			lvl = zerolog.DebugLevel
		}
	} else if b.dumping[name] || crashStart(msg) {
		if b.dumping == nil {
			b.dumping = map[string]bool{}
		}
		b.dumping[name] = true
		lvl = zerolog.DebugLevel
	}
	ev := b.log.WithLevel(lvl).Str("plugin", name)
	for k, v := range m {
		if strings.HasPrefix(k, "@") || k == "timestamp" {
			continue
		}
		ev = ev.Interface(k, v)
	}
	ev.Msg(msg)
}

// pluginName turns hclog's module "nt-ph-rips.nt-ph-rips" into "nt-ph-rips".
func pluginName(module string) string {
	name, _, _ := strings.Cut(module, ".")
	return name
}
