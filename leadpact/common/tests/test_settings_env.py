import pytest
from django.core.exceptions import ImproperlyConfigured

from config.env import env_bool, env_choice, env_int, env_list


def test_typed_readers(monkeypatch):
    monkeypatch.setenv("X_BOOL", "yes")
    monkeypatch.setenv("X_INT", "42")
    monkeypatch.setenv("X_LIST", "a, b,,c")
    monkeypatch.setenv("X_CHOICE", "Sync")
    assert env_bool("X_BOOL") is True
    assert env_int("X_INT", 1) == 42
    assert env_list("X_LIST") == ["a", "b", "c"]
    assert env_choice("X_CHOICE", ("thread", "sync"), "thread") == "sync"
    assert env_int("X_MISSING", 7) == 7


@pytest.mark.parametrize(
    ("reader", "value", "message"),
    [
        (lambda: env_bool("X"), "maybe", "must be a boolean"),
        (lambda: env_int("X", 1), "ten", "must be a whole number"),
        (lambda: env_int("X", 1, minimum=5), "3", "at least 5"),
        (lambda: env_choice("X", ("a", "b"), "a"), "c", "must be one of a, b"),
    ],
)
def test_bad_values_fail_at_start_with_a_clear_message(monkeypatch, reader, value, message):
    monkeypatch.setenv("X", value)
    with pytest.raises(ImproperlyConfigured, match=message):
        reader()
