"""The /docs page: Swagger UI from Sandan's own assets, showing the XML examples as they are.

FastAPI's ``get_swagger_ui_html`` would do but for one thing: Swagger UI renders a string
example of an XML body as a generated sample (``<notagname>&lt;?xml...``), so the example
messages of POST /v1/messages could be neither read nor tried. A small plugin hands the
example through untouched.
"""

from __future__ import annotations

import json
from html import escape

_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{title}</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="{assets}/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="{assets}/swagger-ui-bundle.js"></script>
<script>
// An XML body's example is the message itself: never wrapped into a generated sample.
const RawXmlExamples = () => ({{
  afterLoad(system) {{
    const sample = system.fn.getSampleSchema;
    system.fn.getSampleSchema = (schema, contentType = "", config = {{}}, example = undefined) =>
      /xml/.test(contentType) && typeof example === "string"
        ? example
        : sample(schema, contentType, config, example);
  }},
}});
window.ui = SwaggerUIBundle({{
  url: {openapi_url},
  dom_id: "#swagger-ui",
  layout: "BaseLayout",
  deepLinking: true,
  persistAuthorization: true,
  showExtensions: true,
  presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset],
  plugins: [RawXmlExamples],
}});
</script>
</body>
</html>
"""


def swagger_page(title: str, openapi_url: str, assets_url: str) -> str:
    return _PAGE.format(
        title=escape(title), assets=escape(assets_url), openapi_url=json.dumps(openapi_url)
    )
