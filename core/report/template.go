package report

import "html/template"

// pageTmpl is the whole page. html/template escapes every value; the
// figures' data URIs pass as template.URL, which is why they survive.
var pageTmpl = template.Must(template.New("report").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title>
<style>
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 0; color: #222; background: #fafafa; }
header { background: #1f3b57; color: #fff; padding: 1em 2em; }
header h1 { margin: 0; font-size: 1.5em; }
header p { margin: 0.3em 0 0; opacity: 0.8; font-size: 0.9em; }
nav { padding: 0.5em 2em; background: #eef2f6; border-bottom: 1px solid #d5dde5; }
nav a { margin-right: 1.2em; color: #1f3b57; text-decoration: none; }
main { padding: 0 2em 2em; max-width: 1500px; }
section { margin-top: 2em; }
h2 { border-bottom: 2px solid #1f3b57; padding-bottom: 0.2em; }
.figs { display: grid; grid-template-columns: repeat(auto-fit, minmax(560px, 1fr)); gap: 1em; margin: 1em 0; }
figure { margin: 0; background: #fff; border: 1px solid #ddd; padding: 0.5em; }
figure.wide { grid-column: 1 / -1; }
figure img { max-width: 100%; height: auto; display: block; }
figcaption { font-size: 0.9em; color: #555; margin-top: 0.3em; }
.missing { color: #8a5a00; background: #fff6e0; border: 1px solid #f0d9a0; padding: 0.5em; }
.note { color: #555; font-size: 0.95em; }
table { border-collapse: collapse; background: #fff; margin: 0.5em 0; font-size: 0.9em; }
caption { caption-side: bottom; text-align: left; font-size: 0.85em; color: #666; padding-top: 0.3em; }
th, td { border: 1px solid #ccc; padding: 0.3em 0.6em; text-align: right; }
th { background: #eef2f6; }
td:first-child, th:first-child { text-align: left; }
pre { background: #fff; border: 1px solid #ddd; padding: 1em; overflow-x: auto; font-size: 0.85em; }
</style>
</head>
<body>
<header>
<h1>{{.Title}}</h1>
<p>Generated {{.Generated}} by nthost report</p>
</header>
<nav>{{range .Sections}}<a href="#{{.ID}}">{{.Title}}</a>{{end}}</nav>
<main>
{{range .Sections}}<section id="{{.ID}}">
<h2>{{.Title}}</h2>
{{range .Notes}}<p class="note">{{.}}</p>
{{end}}{{range .Tables}}<table>
{{if .Caption}}<caption>{{.Caption}}</caption>
{{end}}<thead><tr>{{range .Head}}<th>{{.}}</th>{{end}}</tr></thead>
<tbody>
{{range .Rows}}<tr>{{range .}}<td>{{.}}</td>{{end}}</tr>
{{end}}</tbody>
</table>
{{end}}{{if .Figures}}<div class="figs">
{{range .Figures}}<figure{{if .Wide}} class="wide"{{end}}>
{{if .Src}}<img src="{{.Src}}" alt="{{.Title}}">
<figcaption>{{.Title}} — {{.File}}</figcaption>
{{else}}<p class="missing">{{.Title}}: not drawn ({{.Missing}})</p>
{{end}}</figure>
{{end}}</div>
{{end}}{{if .Pre}}<pre>{{.Pre}}</pre>
{{end}}</section>
{{end}}</main>
</body>
</html>
`))
