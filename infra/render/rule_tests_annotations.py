"""Prometheus' annotation templating, for the forms the rule templates use, so that the
generated tests can pin every alert's summary and description as Prometheus renders them."""

from __future__ import annotations

from collections.abc import Callable


def _go_g(value: float, digits: int) -> str:
    """Go's ``%.<digits>g`` (Python's matches it, two-digit exponent included)."""
    return f"{value:.{digits}g}"


def _go_value(value: float) -> str:
    """Go's ``%v`` of a float64: shortest digits, exponent from 1e+21 or below 1e-4."""
    if value == int(value) and abs(value) < 1e21:
        return str(int(value))
    return repr(value)


def humanize_duration(seconds: float) -> str:
    """Prometheus' ``humanizeDuration`` (template_funcs in the prometheus/template package)."""
    if seconds == 0:
        return "0s"
    sign, v = ("-", -seconds) if seconds < 0 else ("", seconds)
    if v >= 1:
        whole = int(v)
        days, hours = whole // 86400, (whole // 3600) % 24
        minutes, secs = (whole // 60) % 60, whole % 60
        if days:
            return f"{sign}{days}d {hours}h {minutes}m {secs}s"
        if hours:
            return f"{sign}{hours}h {minutes}m {secs}s"
        if minutes:
            return f"{sign}{minutes}m {secs}s"
        return f"{sign}{_go_g(v, 4)}s"
    prefix = ""
    for p in ("m", "u", "n", "p", "f", "a", "z", "y"):
        if v >= 1:
            break
        prefix, v = p, v * 1000
    return f"{sign}{_go_g(v, 4)}{prefix}s"


def expand(template: str, value: float, labels: dict[str, str]) -> str:
    """Prometheus' annotation templating, for the few forms the rule templates use."""
    forms: dict[str, Callable[[], str]] = {
        "{{ $value | humanizePercentage }}": lambda: f"{_go_g(value * 100, 4)}%",
        "{{ $value | humanizeDuration }}": lambda: humanize_duration(value),
        "{{ $value }}": lambda: _go_value(value),
    }
    text = template
    for form, render in forms.items():
        if form in text:
            text = text.replace(form, render())
    for name, label_value in labels.items():
        text = text.replace(f"{{{{ $labels.{name} }}}}", label_value)
    if "{{" in text:
        raise ValueError(
            f"annotation uses a template form the test generator cannot expand: {template}"
        )
    return text
