"""List-then-watch with the official Kubernetes Python client, the way controllers written in Python do.

Usage: python3 list_watch.py KUBECONFIG GROUP VERSION PLURAL FIELD

Lists the cluster-scoped custom resource, then watches it from the list's resourceVersion (re-watching from
the last seen one when a watch ends, re-listing on 410 Gone), keeping name -> the value at the dotted path
FIELD of each object. Reads commands on stdin, one per line, and answers each with one JSON line on stdout:

  dump  -> {"objects": {name: value}, "events": n, "relists": n, "errors": [...]}

"errors" lists what a consistent client must never see: a resourceVersion going backwards, an ADDED for a
name it holds, a MODIFIED or DELETED for a name it does not hold.
"""

import json
import sys
import threading

from kubernetes import client, config, watch
from kubernetes.client.rest import ApiException


def value_at(obj, path):
    for part in path.split("."):
        if not isinstance(obj, dict):
            return None
        obj = obj.get(part)
    return obj


def main():
    kubeconfig, group, version, plural, field = sys.argv[1:6]
    api_client = config.new_client_from_config(config_file=kubeconfig)
    api = client.CustomObjectsApi(api_client)
    lock = threading.Lock()
    state = {"objects": {}, "events": 0, "relists": 0, "errors": []}

    def relist():
        listed = api.list_cluster_custom_object(group, version, plural)
        with lock:
            state["objects"] = {o["metadata"]["name"]: value_at(o, field) for o in listed["items"]}
            state["relists"] += 1
        return listed["metadata"]["resourceVersion"]

    def run():
        rv = relist()
        print(json.dumps({"listed": len(state["objects"]), "resourceVersion": rv}), flush=True)
        last = int(rv)
        while True:
            w = watch.Watch()
            try:
                for ev in w.stream(
                    api.list_cluster_custom_object, group, version, plural, resource_version=rv, timeout_seconds=300
                ):
                    kind, obj = ev["type"], ev["object"]
                    if kind == "ERROR":
                        if obj.get("code") == 410:
                            raise ApiException(status=410, reason="Gone")
                        continue
                    if kind == "BOOKMARK":
                        rv = obj["metadata"]["resourceVersion"]
                        continue
                    name = obj["metadata"]["name"]
                    rv = obj["metadata"]["resourceVersion"]
                    with lock:
                        state["events"] += 1
                        if int(rv) <= last:
                            state["errors"].append(f"{kind} {name}: resourceVersion {rv} after {last}")
                        last = int(rv)
                        held = name in state["objects"]
                        if kind == "ADDED" and held:
                            state["errors"].append(f"ADDED {name} which was already there")
                        if kind in ("MODIFIED", "DELETED") and not held:
                            state["errors"].append(f"{kind} {name} which was not there")
                        if kind == "DELETED":
                            state["objects"].pop(name, None)
                        else:
                            state["objects"][name] = value_at(obj, field)
            except ApiException as e:
                if e.status != 410:
                    raise
                rv = relist()
                last = int(rv)

    t = threading.Thread(target=run, daemon=True)
    t.start()
    for line in sys.stdin:
        if line.strip() == "dump":
            with lock:
                print(json.dumps(state), flush=True)
        if not t.is_alive():
            print(json.dumps({"fatal": "the list-watch loop stopped"}), flush=True)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
