package main

import (
	"fmt"
	"os"
	"regexp"
	"strings"
)

var (
	argLine  = regexp.MustCompile(`(?i)^ARG\s+([A-Za-z_][A-Za-z0-9_]*)(?:=(.*))?$`)
	varRef   = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)`)
	urlValue = regexp.MustCompile(`(?i)^(https?|ftp|git)://|^git@`)
)

// dockerInstruction is one logical instruction (continuation lines joined), with its line number.
type dockerInstruction struct {
	line    int
	keyword string
	args    string
}

func parseDockerfile(text string) []dockerInstruction {
	var out []dockerInstruction
	var buf strings.Builder
	start := 0
	for i, raw := range strings.Split(text, "\n") {
		line := strings.TrimSpace(raw)
		if buf.Len() == 0 && (line == "" || strings.HasPrefix(line, "#")) {
			continue
		}
		if buf.Len() > 0 && strings.HasPrefix(line, "#") {
			continue // a comment inside a continued instruction
		}
		if buf.Len() == 0 {
			start = i + 1
		}
		if strings.HasSuffix(line, "\\") {
			buf.WriteString(strings.TrimSuffix(line, "\\"))
			buf.WriteByte(' ')
			continue
		}
		buf.WriteString(line)
		keyword, args, _ := strings.Cut(buf.String(), " ")
		out = append(out, dockerInstruction{start, strings.ToUpper(keyword), strings.TrimSpace(args)})
		buf.Reset()
	}
	return out
}

// checkDockerfile: every FROM is pinned (exact tag or digest, never latest), the build has at
// least two stages, the final stage runs as a non-root USER, and nothing is ADDed from a URL.
func checkDockerfile(path string, problems *problems) {
	data, err := os.ReadFile(path)
	if err != nil {
		problems.add(path, "cannot read: %v", err)
		return
	}
	args := map[string]string{} // ARGs declared before the first FROM, with their defaults
	stages := map[string]bool{}
	stageCount := 0
	finalUser := ""
	for _, ins := range parseDockerfile(string(data)) {
		at := fmt.Sprintf("%s:%d", path, ins.line)
		switch ins.keyword {
		case "ARG":
			if stageCount == 0 {
				if m := argLine.FindStringSubmatch("ARG " + ins.args); m != nil {
					args[m[1]] = strings.Trim(m[2], `"'`)
				}
			}
		case "FROM":
			stageCount++
			finalUser = ""
			fields := strings.Fields(ins.args)
			var image string
			for _, f := range fields {
				if !strings.HasPrefix(f, "--") {
					image = f
					break
				}
			}
			resolved := varRef.ReplaceAllStringFunc(image, func(ref string) string {
				m := varRef.FindStringSubmatch(ref)
				name := m[1] + m[2]
				if v, ok := args[name]; ok && v != "" {
					return v
				}
				problems.add(at, "FROM %s uses ARG %s, which has no default before the first FROM", image, name)
				return ref
			})
			switch {
			case stages[strings.ToLower(resolved)] || resolved == "scratch":
			default:
				if msg := imageProblem(resolved); msg != "" {
					problems.add(at, "base %s", msg)
				}
			}
			if len(fields) >= 3 && strings.EqualFold(fields[len(fields)-2], "AS") {
				stages[strings.ToLower(fields[len(fields)-1])] = true
			}
		case "USER":
			finalUser = strings.TrimSpace(ins.args)
		case "ADD":
			for _, f := range strings.Fields(ins.args) {
				if urlValue.MatchString(f) {
					problems.add(at, "ADD from a URL (%s): download in a build stage with a checksum, or COPY", f)
				}
			}
		}
	}
	if stageCount < 2 {
		problems.add(path, "not a multi-stage build (%d FROM): build tools must stay out of the runtime image", stageCount)
	}
	user, _, _ := strings.Cut(finalUser, ":")
	switch user {
	case "":
		problems.add(path, "the final stage has no USER: it would run as root")
	case "root", "0":
		problems.add(path, "the final stage runs as USER %s; use a non-root uid", finalUser)
	}
}
