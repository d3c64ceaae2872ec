"""Show what the ConnectWise jobs did: python show_connectwise_companies.py SITE [RESULTS_FILE].

Reads /company/companies from the sandbox (or any ConnectWise at SITE, e.g.
http://127.0.0.1:8081) with the sandbox's demo credentials, prints the count, the first names
(the round trip appends " (synced)") and the companies of samples/connectwise/prospects.csv; with
RESULTS_FILE, the target's published records by stream and method.
"""

from __future__ import annotations

import base64
import collections
import csv
import json
import sys
from pathlib import Path

import requests

from connector_sandbox.connectwise import DEFAULT_CLIENT_ID, DEFAULT_COMPANY_ID, DEFAULT_PRIVATE_KEY, DEFAULT_PUBLIC_KEY

ROOT = Path(__file__).resolve().parents[2]
PROSPECTS = ROOT / "samples" / "connectwise" / "prospects.csv"


def get(api: str, path: str, **params) -> requests.Response:
    token = base64.b64encode(
        f"{DEFAULT_COMPANY_ID}+{DEFAULT_PUBLIC_KEY}:{DEFAULT_PRIVATE_KEY}".encode()).decode()
    response = requests.get(api + path, params=params, timeout=60, headers={
        "Authorization": f"Basic {token}", "clientId": DEFAULT_CLIENT_ID,
        "Accept": "application/vnd.connectwise.com+json; version=2025.1"})
    response.raise_for_status()
    return response


def main() -> None:
    site = sys.argv[1].rstrip("/")
    codebase = requests.get(f"{site}/login/companyinfo/{DEFAULT_COMPANY_ID}", timeout=60).json()["Codebase"]
    api = f"{site}/{codebase.rstrip('/')}/apis/3.0"
    count = get(api, "/company/companies/count").json()["count"]
    first = get(api, "/company/companies", pageSize=3, orderBy="id asc", fields="id,name").json()
    print(f"/company/companies: {count} companies; the first: "
          + ", ".join(f"{c['id']} {c['name']!r}" for c in first))
    with PROSPECTS.open(newline="", encoding="utf-8") as handle:
        identifiers = [row["Identifier"] for row in csv.DictReader(handle)]
    listed = " or ".join(f'identifier = "{i}"' for i in identifiers)
    found = get(api, "/company/companies", conditions=listed, pageSize=1000,
                fields="id,identifier,name,zip,numberOfEmployees,leadFlag").json()
    print(f"companies from {PROSPECTS.relative_to(ROOT)}: {len(found)} of {len(identifiers)}")
    for c in found:
        print(f"  {c['id']:>4} {c['identifier']:<13} {c['name']:<30} zip {c.get('zip')!s:<6} "
              f"employees {c.get('numberOfEmployees')!s:<5} lead {c.get('leadFlag')}")
    if len(sys.argv) > 2 and Path(sys.argv[2]).exists():
        lines = [json.loads(line) for line in Path(sys.argv[2]).read_text().splitlines() if line.strip()]
        by = collections.Counter((e["stream"], e["method"] or e.get("skipped")) for e in lines
                                 if "checkpoint" not in e)
        print(f"{sys.argv[2]}: " + ", ".join(f"{s} {m} {n}" for (s, m), n in sorted(by.items())))


if __name__ == "__main__":
    main()
