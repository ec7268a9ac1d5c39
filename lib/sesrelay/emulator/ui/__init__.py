"""The emulator's inbox page (`GET /_emulator/ui`): every mail SES accepted, its batch tasks,
recipient groups and templates, in a browser. Plain HTML, CSS and JavaScript from `static/`,
served by the emulator itself (no CDN, no build step); `views` are the JSON it reads, `pages` the
page, its files and each mail's HTML as a sandboxed document.
"""
