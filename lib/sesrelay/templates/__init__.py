"""Templates kept as code: the `templates/` folder at the project root, and the tools around it
(`sesrelay templates sync` / `preview`, the TemplateData check of `sesrelay config check`).
A development tool: the function never imports it, and the zip leaves it out."""
