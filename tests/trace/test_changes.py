"""The change report's word-level diff: old text struck through, new text highlighted."""
from __future__ import annotations

from papergen.trace.changes import diff_markdown, prose_sections, tokens


def span(text: str, key: str) -> str:
    return f'[{text}]{{.pg-value data-key="{key}"}}'


def test_a_changed_value_is_struck_and_the_new_one_highlighted():
    old = tokens(f"The mean was {span('34.1 ± 3.7 months', 'os.mean')}, as before.")
    new = tokens(f"The mean was {span('35.2 ± 4.2 months', 'os.mean')}, as before.")
    assert diff_markdown(old, new) == "The mean was ~~34.1 ± 3.7 months~~ [35.2 ± 4.2 months]{.mark}, as before."


def test_words_added_and_removed_are_marked_and_markdown_is_escaped():
    old = tokens("Rates were low; the [x]{.pg-value data-key=\"k\"} rate could not be estimated.")
    new = tokens("Rates were low, and the [x]{.pg-value data-key=\"k\"} rate was 12\\*.")
    assert diff_markdown(old, new) == ("Rates were ~~low;~~ [low, and]{.mark} the x rate "
                                       "~~could not be estimated.~~ [was 12\\*.]{.mark}")


def test_prose_changes_ignore_paragraphs_where_only_values_moved():
    old = f"# RESULTS\n\nNine had {span('8', 'a')} events.\n\nStable text.\n\n# DISCUSSION\n\nOld claim.\n"
    new = f"# RESULTS\n\nNine had {span('9', 'a')} events.\n\nStable text.\n\n# DISCUSSION\n\nNew claim.\n\nAdded.\n"
    assert prose_sections(old, new) == [("Discussion", ["~~Old~~ [New]{.mark} claim.", "[Added.]{.mark}"])]
