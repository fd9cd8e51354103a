"""Renders and lints the QTS chart offline with the Helm SDK (helm-python-sdk), for the chart's
tests (crates/ops/tests/helm.rs) and for people:

    ~/.cache/qts/ops-venv/bin/python deploy/k8s/tests/render.py deploy/k8s/qts OUT_DIR [BAD_VALUES_JSON]

For the defaults (values.yaml) and each values-*.yaml of the chart it lints the chart with those
values, renders it as release "qts" in namespace "qts", and writes the manifests to
OUT_DIR/<values file>.yaml (one multi-document YAML file, ready for kubernetes-validate). With
BAD_VALUES_JSON (a JSON list of values documents), each is checked against values.schema.json and
must be refused. Prints one JSON document:

    {"helm": "<SDK version>",
     "renders": {"<values file>": {"values": {...}, "lint": {...}, "file": "...",
                                   "documents": [{"template": "...", "object": {...}}]}},
     "rejected": [{"values": {...}, "error": "<message>" | null}]}

Nothing here talks to a cluster.
"""

from __future__ import annotations

import json
import pathlib
import sys

import helm_python as helm
import yaml

RELEASE = "qts"
NAMESPACE = "qts"


def values_files(chart: pathlib.Path) -> list[pathlib.Path]:
    """values.yaml first, then every values-*.yaml by name."""
    return [chart / "values.yaml", *sorted(chart.glob("values-*.yaml"))]


def render(chart_dir: pathlib.Path, out: pathlib.Path, bad: list[dict]) -> dict:
    result: dict = {"helm": helm.helm_sdk_version(), "renders": {}, "rejected": []}
    with helm.Chart.load(chart_dir) as chart:
        for path in values_files(chart_dir):
            # values.yaml is the chart's own defaults: render it with no overrides.
            values = None if path.name == "values.yaml" else helm.values_from_yaml(path.read_text())
            lint = helm.lint(chart_dir, values, strict=True, namespace=NAMESPACE, quiet=False)
            manifests = chart.render(
                values, name=RELEASE, namespace=NAMESPACE, is_install=True, revision=1
            )
            documents = []
            texts = []
            for template in sorted(manifests):
                if not template.endswith((".yaml", ".yml")):
                    continue  # NOTES.txt
                text = manifests[template]
                for doc in yaml.safe_load_all(text):
                    if doc:
                        documents.append({"template": template, "object": doc})
                texts.append(f"# Source: {template}\n{text.strip()}\n")
            out_file = out / path.name
            out_file.write_text("---\n".join(texts))
            result["renders"][path.name] = {
                "values": helm.values_from_yaml(path.read_text()),
                "lint": lint,
                "file": str(out_file),
                "documents": documents,
            }
        for values in bad:
            try:
                chart.validate_schema(values)
                error = None
            except helm.HelmError as e:
                error = str(e)
            result["rejected"].append({"values": values, "error": error})
    return result


def main() -> int:
    if len(sys.argv) not in (3, 4):
        print(__doc__, file=sys.stderr)
        return 2
    chart_dir = pathlib.Path(sys.argv[1])
    out = pathlib.Path(sys.argv[2])
    out.mkdir(parents=True, exist_ok=True)
    bad = json.loads(sys.argv[3]) if len(sys.argv) == 4 else []
    json.dump(render(chart_dir, out, bad), sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
