# Test-only Ansible callback: writes one JSON line per task result to $FLOE_EVENTS, in the
# same shape as roles-runner's `--json-log` task_result events, so the conformance suite can
# compare per-task statuses of both tools without parsing screen output.
from __future__ import annotations

import json
import os

from ansible.plugins.callback import CallbackBase


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "notification"
    CALLBACK_NAME = "floe_events"
    CALLBACK_NEEDS_ENABLED = True

    def _emit(self, result, status, ignored=False):
        path = os.environ.get("FLOE_EVENTS")
        if not path:
            return
        ev = {
            "event": "task_result",
            "host": result._host.get_name(),
            "task": result._task.get_name(),
            "action": result._task.action,
            "status": status,
            "ignored": bool(ignored),
        }
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(ev) + "\n")

    def v2_runner_on_ok(self, result):
        self._emit(result, "changed" if result._result.get("changed") else "ok")

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._emit(result, "failed", ignore_errors)

    def v2_runner_on_skipped(self, result):
        self._emit(result, "skipped")

    def v2_runner_on_unreachable(self, result):
        self._emit(result, "unreachable")
