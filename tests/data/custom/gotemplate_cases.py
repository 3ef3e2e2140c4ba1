"""Cases for the Go text/template and regexp-expand ports; gotemplate_golden.json holds Go 1.19's answers.

Regenerate (needs Debian golang-go): python3 gotemplate_cases.py > cases.json &&
go run gotemplate_gen.go < cases.json > gotemplate_golden.json
"""

import json

Q = {
    "kind": "query",
    "series": "http_requests_total",
    "matchers": 'namespace="default",pod=~"a|b"',
    "values": {"namespace": "default", "pod": "a|b"},
    "groupBy": ["pod"],
}
Q2 = dict(Q, groupBy=["pod", "container"], values={"namespace": "kube-system", "pod": "x", "a.b": "c"})
E = {"kind": "query", "series": "queue", "matchers": "", "values": {}, "groupBy": []}


def q(t, base=Q, **kw):
    return dict(base, template=t, **kw)


CASES = [
    q('sum(rate(<<.Series>>{<<.LabelMatchers>>,container!="POD"}[2m])) by (<<.GroupBy>>)'),
    q('sum(rate(<<.Series>>{<<.LabelMatchers>>,container!="POD"}[2m])) by (<<.GroupBy>>)', Q2),
    q("<<.GroupBySlice>> <<.LabelValuesByName>>", Q2),
    q("<<.GroupBySlice>> <<.LabelValuesByName>> [<<.GroupBy>>] [<<.LabelMatchers>>]", E),
    q('<<index .LabelValuesByName "namespace">> <<index .LabelValuesByName "missing">>|'),
    q("<<.LabelValuesByName.namespace>> <<.LabelValuesByName.missing>>"),
    q("<<.LabelValuesByName.missing.deeper>>"),
    q("<<.Serie>>"),
    q("<<.Series.Foo>>"),
    q("<<.>>", E),
    q("<<$>>", E),
    q("<<range .GroupBySlice>>[<<.>>]<<end>>", Q2),
    q("<<range $i, $g := .GroupBySlice>><<if $i>>,<<end>><<$g>><<end>>", Q2),
    q("<<range $k, $v := .LabelValuesByName>><<$k>>=<<$v>>;<<end>>", Q2),
    q("<<range .GroupBySlice>>x<<else>>empty<<end>>", E),
    q("<<range $g := .GroupBySlice>><<$g>><<end>>", Q2),
    q('<<range .GroupBySlice>><<if eq . "container">><<break>><<end>><<.>><<end>>', Q2),
    q('<<range .GroupBySlice>><<if eq . "pod">><<continue>><<end>><<.>><<end>>', Q2),
    q('a  <<- if eq .GroupBy "pod" ->>  yes <<- else ->> no <<- end ->>  b'),
    q("a \n\t <<- .Series ->> \n b"),
    q("a <<- /* comment */ ->> b"),
    q("<</* comment */>>c"),
    q("<<if .LabelMatchers>>{<<.LabelMatchers>>}<<else>>none<<end>>", E),
    q("<<if not .LabelMatchers>>none<<else if .GroupBy>>g<<else>>x<<end>>", E),
    q("<<if .X>>x<<end>>"),
    q("<<with .LabelValuesByName.pod>>[<<.>>]<<else>>none<<end>>"),
    q("<<with .LabelValuesByName.nope>>[<<.>>]<<else>>none<<end>>"),
    q("<<with $x := .GroupBy>><<$x>>/<<.>><<end>>"),
    q('<<printf "%s=%q" .GroupBy .Series>>'),
    q('<<printf "%05.2f|%d|%v|%x|%X|%o|%t|%c|%%|%5s|%-5s|" 3.14159 42 1e6 255 255 8 true 65 "ab" "cd">>'),
    q('<<printf "%v %v %v %v" 0.5 1.0 100000.0 1234567.0>>'),
    q('<<printf "%d" "notanint">>'),
    q('<<printf "%s %s" "one">>'),
    q('<<printf "%s" "one" "two">>'),
    q('<<printf "%v|%s|%q" .GroupBySlice .GroupBySlice .GroupBySlice>>', Q2),
    q('<<printf "%e|%g|%.3g|%G" 123456.789 0.000012345 3.14159 1e21>>'),
    q('<<print 1 2 "a" 3 .GroupBySlice>>', Q2),
    q('<<println 1 "a">>x'),
    q("<<len .GroupBySlice>> <<len .Series>> <<len .LabelValuesByName>>", Q2),
    q("<<slice .Series 0 4>> <<slice .GroupBySlice 1>>", Q2),
    q('<<and 1 0 2>> <<and 1 2>> <<or 0 "" "z">> <<or 0 "">> <<not true>> <<not "">>'),
    q('<<eq .GroupBy "pod" "container">> <<ne 1 2>> <<lt 1 2>> <<le 2 2>> <<gt "b" "a">> <<ge 1.5 2.5>>'),
    q('<<eq 1 "a">>'),
    q("<<index .GroupBySlice 1>> <<index .GroupBySlice 5>>", Q2),
    q("<<$x := 1>><<$x = 2>><<$x>>"),
    q("<<$y>>"),
    q("<<foo>>"),
    q("<<if .X>>"),
    q("<<end>>"),
    q("<<else>>"),
    q("<<.Series"),
    q('<<define "t">>T(<<.>>)<<end>><<template "t" .GroupBy>> <<block "b" .Series>>B<<.>><<end>>'),
    q('<<template "nope">>'),
    q("<<(index .GroupBySlice 0)>> <<(.LabelValuesByName).pod>>"),
    q('<<.GroupBy | printf "%s-x">> <<"a" | printf "%s%s" "b">>'),
    q("<<.Series | len>>"),
    q("<<\"lit\\t\\x41\\u00e9\">> <<`raw\\n`>> <<'x'>> <<0x1F>> <<1e3>> <<-7>> <<true>> <<nil>>"),
    q('<<html "<a href=\\"x\\">&\'">> <<urlquery "a b&c=d/é">> <<js "a\'b\\"<>">>'),
    q("<<.GroupBy 1>>"),
    q('<<"x" 1>>'),
    q("<<index .LabelValuesByName 1>>"),
    q("<<len 3>>"),
    q("rate(x[5m]) > 1 and <<.Series>> < 2"),
    q("a << b >> c"),
    q("<<print>>"),
    q("<< .Series >>"),
    q("<<-.Series->>"),
    q("x <<- .Series>>"),
    {
        "kind": "resource",
        "template": "kube_<<.Group>>_<<.Resource>>",
        "group": "apps",
        "resource": "deployment",
    },
    {"kind": "resource", "template": "<<.Resource>>", "group": "", "resource": "(?P<resource>.+?)"},
    {"kind": "resource", "template": "<<.Resourc>>", "group": "", "resource": "pod"},
    {
        "kind": "resource",
        "template": "<<if .Group>><<.Group>>_<<end>><<.Resource>>",
        "group": "",
        "resource": "pod",
    },
]

EXPAND = [
    ("^(.*)_total$", "${1}_per_second", "http_requests_total"),
    ("^(.*)_total$", "$1_per_second", "http_requests_total"),
    ("^(.*)_total$", "$1x", "http_requests_total"),
    ("^container_(.*)_seconds_total$", "$1", "container_cpu_usage_seconds_total"),
    ("^(?P<base>.*)_total$", "$base-$$-${base}", "a_total"),
    ("^(.*)_(.*)$", "$2.$1.$0.$3.$10", "a_b"),
    (".*", "$0", "anything"),
    ("b+", "[$0]", "abbbc"),
    ("^(.*)_total$", "cheesy_goodness", "x_total"),
    ("^(.*)_total$", "$", "x_total"),
    ("^(.*)_total$", "${1", "x_total"),
    ("^(.*)_total$", "${}", "x_total"),
    ("^(a)?(b)$", "[$1][$2]", "b"),
    ("(?i)^HTTP_(.*)$", "$1", "http_x"),
    ("^([[:alpha:]]+)_\\d+$", "$1", "abc_12"),
    ("^(\\pL+)_x$", "$1", "été_x"),
]

for rx, tmpl, inp in EXPAND:
    CASES.append({"kind": "expand", "regex": rx, "template": tmpl, "input": inp})

if __name__ == "__main__":
    print(json.dumps(CASES, ensure_ascii=False))
