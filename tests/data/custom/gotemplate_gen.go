// Generates golden answers for kubescope's Go text/template and regexp-expand ports.
// Input (stdin): JSON list of cases; output (stdout): JSON list of results, same order.
package main

import (
	"bytes"
	"encoding/json"
	"os"
	"regexp"
	"strings"
	"text/template"
)

type queryTemplateArgs struct {
	Series            string
	LabelMatchers     string
	LabelValuesByName map[string]string
	GroupBy           string
	GroupBySlice      []string
}

type groupResource struct {
	Group    string
	Resource string
}

type Case struct {
	Kind     string            `json:"kind"` // "query", "resource", "expand", "match"
	Template string            `json:"template"`
	Series   string            `json:"series,omitempty"`
	Matchers string            `json:"matchers,omitempty"`
	Values   map[string]string `json:"values,omitempty"`
	GroupBy  []string          `json:"groupBy,omitempty"`
	Group    string            `json:"group,omitempty"`
	Resource string            `json:"resource,omitempty"`
	Regex    string            `json:"regex,omitempty"`
	Input    string            `json:"input,omitempty"`
}

type Result struct {
	Out      string `json:"out"`
	ParseErr string `json:"parseError,omitempty"`
	ExecErr  string `json:"execError,omitempty"`
}

func main() {
	var cases []Case
	if err := json.NewDecoder(os.Stdin).Decode(&cases); err != nil {
		panic(err)
	}
	out := make([]Result, 0, len(cases))
	for _, c := range cases {
		var r Result
		switch c.Kind {
		case "expand":
			re, err := regexp.Compile(c.Regex)
			if err != nil {
				r.ParseErr = err.Error()
				break
			}
			m := re.FindStringSubmatchIndex(c.Input)
			if m == nil {
				r.ExecErr = "no match"
				break
			}
			r.Out = string(re.ExpandString(nil, c.Template, c.Input, m))
		default:
			t, err := template.New("metrics-query").Delims("<<", ">>").Parse(c.Template)
			if err != nil {
				r.ParseErr = err.Error()
				break
			}
			var data interface{}
			if c.Kind == "resource" {
				data = groupResource{Group: c.Group, Resource: c.Resource}
			} else {
				gb := c.GroupBy
				if gb == nil {
					gb = []string{}
				}
				vals := c.Values
				if vals == nil {
					vals = map[string]string{}
				}
				data = queryTemplateArgs{Series: c.Series, LabelMatchers: c.Matchers, LabelValuesByName: vals,
					GroupBy: strings.Join(gb, ","), GroupBySlice: gb}
			}
			var b bytes.Buffer
			if err := t.Execute(&b, data); err != nil {
				r.ExecErr = err.Error()
			}
			r.Out = b.String()
		}
		out = append(out, r)
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", " ")
	_ = enc.Encode(out)
}
