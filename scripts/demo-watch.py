"""Shows the controller's /status as a table until every document is ready, or, with --drift,
makes a drift by hand and shows it detected and corrected. Run by scripts/demo."""

import argparse
import json
import time
import urllib.request

import boto3


def status(url: str) -> dict:
    with urllib.request.urlopen(f"{url}/status", timeout=5) as reply:
        return json.load(reply)


def condition(doc: dict, kind: str) -> str:
    for c in doc.get("conditions", []):
        if c["type"] == kind:
            return c["status"]
    return "-"


def table(doc_status: dict) -> str:
    lines = []
    for doc in doc_status.get("documents", []):
        drifted = ", ".join(doc.get("driftedFields") or [])
        error = (doc.get("lastError") or {}).get("message", "")
        # Why a document is not ready yet (a binding waiting for its share, a rollout running).
        waiting = next(
            (c.get("message", "") for c in doc.get("conditions", []) if c["type"] == "Ready" and c["status"] != "True"),
            "",
        )
        lines.append(
            f"  {doc['key']:<42} ready={condition(doc, 'Ready'):<7} "
            f"synced={condition(doc, 'Synced'):<7} drifted={condition(doc, 'Drifted'):<7} {drifted or error or waiting}"
        )
    return "\n".join(lines)


def wait_converged(url: str, expected: int, limit: float) -> None:
    deadline = time.time() + limit
    shown = None
    while time.time() < deadline:
        try:
            current = status(url)
        except OSError:
            time.sleep(1)
            continue
        text = table(current)
        if text != shown:
            print(time.strftime("%H:%M:%S"), f"{len(current.get('documents', []))} documents")
            print(text, flush=True)
            shown = text
        docs = current.get("documents", [])
        if len(docs) >= expected and all(condition(d, "Ready") == "True" for d in docs):
            print("converged: every document is Ready", flush=True)
            return
        time.sleep(1)
    raise SystemExit("not converged in time; see the controller log")


def drift(url: str) -> None:
    sd = session_in("111111111111", "ap-northeast-1").client("servicediscovery")
    ns = next(n for n in sd.list_namespaces()["Namespaces"] if n["Name"] == "payments.internal")
    sd.update_http_namespace(Id=ns["Id"], Namespace={"Description": "changed by hand"})
    print(time.strftime("%H:%M:%S"), f"drift by hand: the description of {ns['Name']} is now 'changed by hand'", flush=True)
    started = time.time()
    while time.time() < started + 60:
        description = sd.get_namespace(Id=ns["Id"])["Namespace"].get("Description")
        if description != "changed by hand":
            print(time.strftime("%H:%M:%S"), f"corrected after {time.time() - started:.1f}s: the description is '{description}' again", flush=True)
            return
        time.sleep(0.5)
    raise SystemExit("the drift was not corrected")


def session_in(account: str, region: str) -> boto3.Session:
    creds = boto3.client("sts", region_name=region).assume_role(
        RoleArn=f"arn:aws:iam::{account}:role/demo", RoleSessionName="demo"
    )["Credentials"]
    return boto3.Session(
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
        region_name=region,
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--expected", type=int, default=6)
    parser.add_argument("--drift", action="store_true")
    args = parser.parse_args()
    if args.drift:
        drift(args.url)
    else:
        wait_converged(args.url, args.expected, 300)


if __name__ == "__main__":
    main()
