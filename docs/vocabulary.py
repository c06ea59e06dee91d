"""Print the protected-grounds vocabulary as Markdown, for docs/catalogue.md.

    python docs/vocabulary.py > /tmp/vocabulary.md

``tests/unit/test_docs.py`` checks that docs/catalogue.md holds exactly this text between the
``<!-- vocabulary:start -->`` and ``<!-- vocabulary:end -->`` markers.
"""

from socialcredit.domain.protected import GROUNDS


def vocabulary_markdown() -> str:
    lines = []
    for ground in GROUNDS:
        lines.append(f"### {ground.label} (`{ground.code}`)")
        lines.append("")
        lines.append("English patterns: " + ", ".join(f"`{term}`" for term in ground.english))
        lines.append("")
        lines.append("Chinese terms: " + "、".join(ground.chinese))
        lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    print(vocabulary_markdown())
