"""The evidence pack as a document a person reads: Markdown or a self-contained HTML page, from the report's JSON
(every value escaped; no body, so no account number, is in a report)."""

from __future__ import annotations

import html
from datetime import UTC, datetime
from typing import Literal

from emulator.core.outcomes import CLOSED_WITHOUT_RESPONSE as CLOSED
from emulator.readiness.evidence import EvidenceJson
from emulator.readiness.plan import Plan
from emulator.readiness.report import ReadinessJson, ScenarioJson

#: How each status reads.
STATUS_WORDS = {"passed": "passed", "failed": "FAILED", "not_run": "not run"}
#: Where the inspector tells a journaled request's story.
STORY = "/_emulator/ui?request={id}#detail"


def when(seconds: float | None) -> str:
    """A moment as ISO 8601 in UTC, to the millisecond."""
    if seconds is None:
        return "-"
    return datetime.fromtimestamp(seconds, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def title(report: ReadinessJson) -> str:
    return f"Readiness of participant {report['participant_id']}: {report['plan']['name']}"


def describe(item: EvidenceJson) -> str:
    """One evidence item in words (ids, answer, attempts), without its note."""
    if item["kind"] == "request":
        answer = "no answer (the connection was closed)" if item.get("http_status") == CLOSED \
            else f"HTTP {item.get('http_status')}"
        if item.get("ingo_status") is not None:
            answer += f" status {item.get('ingo_status')}"
        parts = [f"request {item.get('request_id')} (journal {item.get('journal_id')})",
                 f"{item.get('endpoint') or '-'} {answer}"]
        parts += [f"{key} {item[key]}" for key in ("participant_unique_id1", "transaction_id",
                                                  "customer_account_token") if key in item]
    elif item["kind"] == "delivery":
        parts = [f"delivery {item.get('delivery_id')}" + (f" ({item['probe']} probe)" if "probe" in item else ""),
                 f"event {item.get('event_id')}", str(item.get("topic"))]
        parts += [f"attempt {a['attempt']}: " + (f"HTTP {a['http_status']}" if a["http_status"] is not None
                                                  else str(a["error"]))
                  + (f" in {a['latency_ms']:.0f} ms" if a["latency_ms"] is not None else "")
                  + f" at {when(a['wall_time'])}" for a in item.get("attempts", [])]
    else:
        parts = [f"finding {item.get('finding_id')} {item.get('code')}",
                 "requests " + ", ".join(item.get("requests", []))]
    parts.append(f"emulator {when(item['time'])}, wall {when(item['wall_time'])}")
    return "; ".join(parts)


def plan_table(plan: Plan) -> str:
    """The plan's scenarios as docs/readiness.md lists them: what passes each, Ingo's page and name, the trigger."""
    lines = ["| id | category | passes when | Ingo's page (scenario) | how to make it happen here |",
             "|---|---|---|---|---|"]
    for scenario in plan.scenarios:
        ingo = f"[{scenario.source.split('://', 1)[-1]}]({scenario.source})" + (
            f" ({_cell(scenario.ingo_scenario)})" if scenario.ingo_scenario else "")
        lines.append(f"| `{scenario.id}` | {scenario.category} | {_cell(scenario.passes_when)} | {ingo} | "
                     f"{_cell(scenario.trigger)} |")
    return "\n".join(lines)


def _cell(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def markdown(report: ReadinessJson) -> str:
    """The evidence pack in Markdown."""
    plan, summary = report["plan"], report["summary"]
    lines = [f"# {title(report)}", "",
             f"- Date: {when(report['generated']['wall_time'])} (emulator clock {when(report['generated']['time'])})",
             f"- Emulator: ingopay-emulator {report['emulator_version']}",
             f"- Plan: {plan['name']}, version {plan['version']} ({plan['file']})"
             + (f", from {plan['source']}" if plan["source"] else ""),
             f"- Rehearsal started: {when(report['started']['wall_time'])} "
             f"(emulator clock {when(report['started']['time'])})",
             f"- Result: {summary['passed']} passed, {summary['failed']} failed, {summary['not_run']} not run", "",
             "## Scenarios", "", "| id | category | status | scenario |", "|---|---|---|---|"]
    lines += [f"| `{s['id']}` | {s['category']} | {STATUS_WORDS[s['status']]} | {_cell(s['title'])} |"
              for s in report["scenarios"]]
    for scenario in report["scenarios"]:
        lines += ["", *_scenario_markdown(scenario)]
    coverage = report["coverage"]
    lines += ["", "## Outcome coverage", "", coverage["summary"], "",
              "| outcome or topic | met | how to meet it here |", "|---|---|---|"]
    lines += [f"| {_cell(item['label'])} | {'yes (' + str(item['count']) + ')' if item['met'] else 'never'} | "
              f"{_cell(item['how'])} |" for item in coverage["items"]]
    lines += ["", "## Findings", ""]
    lines += [f"- `{f['code']}` ({when(f['wall_time'])}): {f['message']} Rule: {f['rule']} ({f['reference']}); "
              f"requests {', '.join(f['requests']) or '-'}" for f in report["findings"]] or ["None."]
    lines += ["", "## Probe deliveries", "",
              "Sent by the emulator during the rehearsal to test the receiver; never counted as events.", ""]
    lines += [f"- {describe(item)}" for item in report["probes"]] or ["None."]
    kept = report["kept"]
    dropped = [f"{count} {kind}" for kind, count in kept["dropped"].items() if count]
    lines += ["", f"Kept: {kept['requests']} requests, {kept['deliveries']} deliveries, {kept['findings']} findings, "
                  f"{kept['events']} events" + (f"; the oldest left to make room: {', '.join(dropped)}." if dropped
                                                else "."), ""]
    return "\n".join(lines)


#: What a scenario may add to its verdict, in the order shown: the key (also the HTML class) and its label.
REMARKS: tuple[tuple[Literal["why", "next"], str], ...] = (("why", "Why it failed"), ("next", "Next"))


def _scenario_markdown(scenario: ScenarioJson) -> list[str]:
    lines = [f"### `{scenario['id']}`: {scenario['title']} ({STATUS_WORDS[scenario['status']]})", "",
             f"- Category: {scenario['category']}; Ingo's page: {scenario['source']}"
             + (f"; Ingo's scenario: {scenario['ingo_scenario']}" if scenario["ingo_scenario"] else ""),
             f"- Passes when: {scenario['passes_when']}"]
    lines += [f"- {label}: {scenario[key]}" for key, label in REMARKS if scenario[key]]
    if scenario["evidence"]:
        lines.append("- Evidence:")
        lines += [f"  - {item['note']}: {describe(item)}" for item in scenario["evidence"]]
        if scenario["evidence_omitted"]:
            lines.append(f"  - and {scenario['evidence_omitted']} more")
    return lines


def page(report: ReadinessJson) -> str:
    """The evidence pack as one self-contained HTML page; evidence links open the request's story in the
    inspector of the emulator that served it."""
    e = html.escape
    plan, summary = report["plan"], report["summary"]
    parts = [f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{e(title(report))}</title>",
             f"<style>{STYLE}</style></head><body><main>", f"<h1>{e(title(report))}</h1><dl class='facts'>"]
    for name, value in (("Date", f"{when(report['generated']['wall_time'])} (emulator clock "
                                 f"{when(report['generated']['time'])})"),
                        ("Emulator", f"ingopay-emulator {report['emulator_version']}"),
                        ("Plan", f"{plan['name']}, version {plan['version']} ({plan['file']})"),
                        ("Rehearsal started", when(report["started"]["wall_time"])),
                        ("Result", f"{summary['passed']} passed, {summary['failed']} failed, "
                                   f"{summary['not_run']} not run")):
        parts.append(f"<dt>{e(name)}</dt><dd>{e(value)}</dd>")
    parts.append("</dl><h2>Scenarios</h2>")
    for scenario in report["scenarios"]:
        parts.append(_scenario_html(scenario))
    coverage = report["coverage"]
    parts.append(f"<h2>Outcome coverage</h2><p>{e(coverage['summary'])}</p><table><thead><tr><th>Outcome or topic</th>"
                 "<th>Met</th><th>How to meet it here</th></tr></thead><tbody>")
    parts += [f"<tr class='{'met' if item['met'] else 'never'}'><td>{e(item['label'])}</td>"
              f"<td>{'yes (' + str(item['count']) + ')' if item['met'] else 'never'}</td><td>{e(item['how'])}</td></tr>"
              for item in coverage["items"]]
    parts.append("</tbody></table><h2>Findings</h2><ul>")
    parts += [f"<li><code>{e(f['code'])}</code> {e(f['message'])} <a href='{e(f['reference'])}'>{e(f['rule'])}</a>"
              "</li>" for f in report["findings"]] or ["<li>None.</li>"]
    parts.append("</ul><h2>Probe deliveries</h2><p>Sent by the emulator during the rehearsal to test the receiver; "
                 "never counted as events.</p><ul>")
    parts += [f"<li>{e(describe(item))}</li>" for item in report["probes"]] or ["<li>None.</li>"]
    parts.append("</ul></main></body></html>\n")
    return "".join(parts)


def _scenario_html(scenario: ScenarioJson) -> str:
    e = html.escape
    status = scenario["status"]
    parts = [f"<section class='scenario {e(status)}' id='{e(scenario['id'])}'><h3><span class='status'>"
             f"{e(STATUS_WORDS[status])}</span> <code>{e(scenario['id'])}</code> {e(scenario['title'])}</h3>",
             f"<p>{e(scenario['category'])} · <a href='{e(scenario['source'])}'>Ingo's page</a>"
             + (f" · Ingo's scenario: {e(scenario['ingo_scenario'])}" if scenario["ingo_scenario"] else "")
             + f"</p><p>Passes when: {e(scenario['passes_when'])}</p>"]
    parts += [f"<p class='{key}'>{label}: {e(scenario[key] or '')}</p>" for key, label in REMARKS if scenario[key]]
    if scenario["evidence"]:
        parts.append("<ul class='evidence'>")
        for item in scenario["evidence"]:
            text = f"{e(item['note'])}: {e(describe(item))}"
            if "journal_id" in item:
                text += f" <a href='{e(STORY.format(id=item['journal_id']))}'>story</a>"
            parts.append(f"<li>{text}</li>")
        if scenario["evidence_omitted"]:
            parts.append(f"<li>and {scenario['evidence_omitted']} more</li>")
        parts.append("</ul>")
    parts.append("</section>")
    return "".join(parts)


STYLE = ("body{font:15px/1.45 system-ui,sans-serif;margin:0;color:#1b1f23}"
         "main{max-width:70rem;margin:auto;padding:1rem}"
         "table{border-collapse:collapse;width:100%}td,th{border:1px solid #ccd;padding:.25rem .5rem;text-align:left;"
         "vertical-align:top}.facts dt{font-weight:600}.scenario{border-left:.4rem solid #999;padding:.1rem .8rem;"
         "margin:1rem 0}.passed{border-color:#1a7f37}.failed{border-color:#cf222e}.not_run{border-color:#8c959f}"
         ".failed .status{color:#cf222e}.passed .status{color:#1a7f37}.never td{color:#57606a}code{font-size:.9em}")
