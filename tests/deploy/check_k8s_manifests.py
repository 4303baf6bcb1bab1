#!/usr/bin/env python3
"""Renders deploy/k8s/overlays/{cpu,gpu} with `kubectl kustomize` and checks the invariants the
server relies on: probe ports = the server's gRPC port, grace period > preStop + drain timeout,
the metrics port is the one the ServiceMonitor scrapes, non-root with a read-only root fs, every
LDM_* variable is one the server knows (server/server_config.cc), selectors match the pods.

Exits 0 when every overlay passes; 1 with one line per violation otherwise; 2 when kubectl is
missing (a failure, not a skip). --self-test also checks that broken manifests are caught.
"""
import argparse
import copy
import os
import re
import shutil
import subprocess
import sys

import yaml  # Debian: python3-yaml

SERVER_DEFAULTS = {"LDM_PORT": "50051", "LDM_METRICS_PORT": "9090", "LDM_DRAIN_TIMEOUT": "30"}


def render(repo, overlay):
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        print("FAIL: kubectl not found in PATH; it is needed (offline, no cluster) to render "
              "deploy/k8s/overlays with `kubectl kustomize`", file=sys.stderr)
        sys.exit(2)
    path = os.path.join(repo, "deploy", "k8s", "overlays", overlay)
    result = subprocess.run([kubectl, "kustomize", path], capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"kubectl kustomize {path} failed:\n{result.stderr}")
    return [d for d in yaml.safe_load_all(result.stdout) if d]


def server_env_names(repo):
    with open(os.path.join(repo, "server", "server_config.cc")) as f:
        return set(re.findall(r'envname\("(LDM_[A-Z_]+)"\)', f.read()))


def one(objects, kind, name=None):
    found = [o for o in objects
             if o["kind"] == kind and (name is None or o["metadata"]["name"] == name)]
    if len(found) != 1:
        raise AssertionError(f"expected one {kind} {name or ''}, found {len(found)}")
    return found[0]


def selects(selector, labels):
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


def check(objects, overlay, known_env):
    errors = []
    dep = one(objects, "Deployment", "ldm-server")
    pod = dep["spec"]["template"]
    spec = pod["spec"]
    pod_labels = pod["metadata"]["labels"]
    if not selects(dep["spec"]["selector"]["matchLabels"], pod_labels):
        errors.append("Deployment selector does not match its pod labels")
    containers = [c for c in spec["containers"] if c["name"] == "ldm-server"]
    if len(containers) != 1:
        return errors + ["no ldm-server container"]
    c = containers[0]
    env = {e["name"]: str(e.get("value", "")) for e in c.get("env", [])}
    for name in env:
        if name.startswith("LDM_") and name not in known_env:
            errors.append(f"env {name} is not a server variable (known: {sorted(known_env)})")
    grpc_port = int(env.get("LDM_PORT", SERVER_DEFAULTS["LDM_PORT"]))
    metrics_port = int(env.get("LDM_METRICS_PORT", SERVER_DEFAULTS["LDM_METRICS_PORT"]))
    drain = float(env.get("LDM_DRAIN_TIMEOUT", SERVER_DEFAULTS["LDM_DRAIN_TIMEOUT"]))
    ports = {p["name"]: p["containerPort"] for p in c.get("ports", [])}
    if ports.get("grpc") != grpc_port:
        errors.append(f"containerPort grpc {ports.get('grpc')} != LDM_PORT {grpc_port}")
    if ports.get("metrics") != metrics_port:
        errors.append(f"containerPort metrics {ports.get('metrics')} != LDM_METRICS_PORT "
                      f"{metrics_port}")

    for probe in ("readinessProbe", "livenessProbe", "startupProbe"):
        p = c.get(probe)
        if p is None:
            if probe != "startupProbe":
                errors.append(f"{probe} missing")
            continue
        port = p.get("grpc", {}).get("port")
        if port != grpc_port:
            errors.append(f"{probe} is not a grpc probe on the server port {grpc_port} ({p})")

    grace = spec.get("terminationGracePeriodSeconds", 30)
    pre_stop = c.get("lifecycle", {}).get("preStop", {}).get("sleep", {}).get("seconds", 0)
    if not c.get("lifecycle", {}).get("preStop"):
        errors.append("no preStop hook")
    if grace <= drain + pre_stop:
        errors.append(f"terminationGracePeriodSeconds {grace} <= preStop {pre_stop} s + "
                      f"drain timeout {drain} s")

    psc = spec.get("securityContext", {})
    csc = c.get("securityContext", {})
    if not (psc.get("runAsNonRoot") or csc.get("runAsNonRoot")):
        errors.append("runAsNonRoot is not set")
    if psc.get("runAsUser", csc.get("runAsUser")) in (None, 0):
        errors.append("runAsUser must be a non-zero uid")
    if not csc.get("readOnlyRootFilesystem"):
        errors.append("readOnlyRootFilesystem is not set")
    if csc.get("allowPrivilegeEscalation", True):
        errors.append("allowPrivilegeEscalation is not false")
    volumes = {v["name"]: v for v in spec.get("volumes", [])}
    tmp = [m for m in c.get("volumeMounts", []) if m["mountPath"] == "/tmp"]
    if not tmp or "emptyDir" not in volumes.get(tmp[0]["name"], {}):
        errors.append("/tmp is not an emptyDir mount")
    if "resources" not in c or "requests" not in c["resources"]:
        errors.append("no resource requests")

    services = [o for o in objects if o["kind"] == "Service"]
    headless = [s for s in services if s["spec"].get("clusterIP") == "None"]
    cluster_ip = [s for s in services if s["spec"].get("clusterIP") != "None"]
    if len(headless) != 1 or len(cluster_ip) != 1:
        errors.append("expected one headless and one ClusterIP Service")

    def target_port(service_port):
        t = service_port.get("targetPort", service_port["port"])
        return ports.get(t) if isinstance(t, str) else t

    for s in services:
        if not selects(s["spec"].get("selector"), pod_labels):
            errors.append(f"Service {s['metadata']['name']} does not select the pods")
        grpc = [p for p in s["spec"]["ports"] if p["name"] == "grpc"]
        if not grpc or target_port(grpc[0]) != grpc_port:
            errors.append(f"Service {s['metadata']['name']} grpc port does not reach {grpc_port}")

    monitor = one(objects, "ServiceMonitor", "ldm-server")
    monitored = [s for s in services
                 if selects(monitor["spec"]["selector"].get("matchLabels"),
                            s["metadata"].get("labels", {}))]
    if not monitored:
        errors.append("the ServiceMonitor selects no Service")
    for endpoint in monitor["spec"]["endpoints"]:
        for s in monitored:
            named = [p for p in s["spec"]["ports"] if p["name"] == endpoint.get("port")]
            if not named or target_port(named[0]) != metrics_port:
                errors.append(f"ServiceMonitor port {endpoint.get('port')} on "
                              f"{s['metadata']['name']} is not the metrics port {metrics_port}")
        if endpoint.get("path", "/metrics") != "/metrics":
            errors.append("ServiceMonitor path is not /metrics")

    pdb = one(objects, "PodDisruptionBudget")
    if not selects(pdb["spec"]["selector"]["matchLabels"], pod_labels):
        errors.append("PodDisruptionBudget does not select the pods")

    scaled = one(objects, "ScaledObject")
    if scaled["spec"]["scaleTargetRef"].get("name") != dep["metadata"]["name"]:
        errors.append("ScaledObject does not target the Deployment")
    triggers = scaled["spec"].get("triggers", [])
    if not any(t["type"] == "prometheus" and "ldm_queue_depth" in t["metadata"].get("query", "")
               for t in triggers):
        errors.append("ScaledObject has no prometheus trigger on ldm_queue_depth")

    limits = c.get("resources", {}).get("limits", {})
    devices = env.get("LDM_DEVICES", "cpu")
    if overlay == "gpu":
        if str(limits.get("nvidia.com/gpu")) != "1":
            errors.append("gpu: limits nvidia.com/gpu must be 1")
        if not devices.startswith("cuda:"):
            errors.append(f"gpu: LDM_DEVICES is {devices}, expected cuda:N")
        if not spec.get("tolerations") or not spec.get("nodeSelector"):
            errors.append("gpu: tolerations and nodeSelector are required")
        if "cuda" not in c["image"]:
            errors.append(f"gpu: image {c['image']} is not the CUDA image")
    else:
        if "nvidia.com/gpu" in limits or devices != "cpu":
            errors.append("cpu: must not ask for GPUs")
    return [f"{overlay}: {e}" for e in errors]


def self_test(objects, known_env):
    """Each mutation must be reported, or the checker checks nothing."""
    def dep(objs):
        return one(objs, "Deployment", "ldm-server")

    def container(objs):
        return dep(objs)["spec"]["template"]["spec"]["containers"][0]

    def set_env(objs, name, value):
        for e in container(objs)["env"]:
            if e["name"] == name:
                e["value"] = value

    mutations = {
        "short grace period":
            lambda o: dep(o)["spec"]["template"]["spec"].update(terminationGracePeriodSeconds=30),
        "probe on the wrong port":
            lambda o: container(o)["readinessProbe"]["grpc"].update(port=8080),
        "server port moved": lambda o: set_env(o, "LDM_PORT", "6000"),
        "metrics port moved": lambda o: set_env(o, "LDM_METRICS_PORT", "9100"),
        "root user":
            lambda o: dep(o)["spec"]["template"]["spec"]["securityContext"].update(
                runAsNonRoot=False, runAsUser=0),
        "writable root fs":
            lambda o: container(o)["securityContext"].update(readOnlyRootFilesystem=False),
        "unknown env": lambda o: container(o)["env"].append({"name": "LDM_BOGUS", "value": "1"}),
    }
    failures = []
    for name, mutate in mutations.items():
        objs = copy.deepcopy(objects)
        mutate(objs)
        if not check(objs, "cpu", known_env):
            failures.append(f"self-test: '{name}' was not caught")
    return failures


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repo", default=os.path.join(os.path.dirname(__file__), "..", ".."))
    parser.add_argument("--self-test", action="store_true")
    args = parser.parse_args()
    known_env = server_env_names(args.repo)
    if "LDM_PORT" not in known_env:
        print("FAIL: could not read the server's LDM_* variables", file=sys.stderr)
        return 1
    errors = []
    for overlay in ("cpu", "gpu"):
        objects = render(args.repo, overlay)
        kinds = sorted(o["kind"] for o in objects)
        print(f"{overlay}: rendered {len(objects)} objects: {', '.join(kinds)}")
        errors += check(objects, overlay, known_env)
        if args.self_test and overlay == "cpu":
            errors += self_test(objects, known_env)
    for e in errors:
        print("FAIL:", e, file=sys.stderr)
    if not errors:
        print("OK: every invariant holds")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
