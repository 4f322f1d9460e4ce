"""Chinese terms on the built pages are marked as Chinese, for fonts and screen readers."""

import re

from conftest import built_pages

CHINESE = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


def test_every_chinese_character_is_inside_a_lang_zh_element(site):
    from bs4 import BeautifulSoup

    pages_with_chinese, unmarked = 0, []
    for page in built_pages(site):
        body = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser").body
        if body is None:                     # the front page's redirect has no body
            continue
        texts = [t for t in body.find_all(string=CHINESE)
                 if t.parent.name not in ("script", "style", "textarea")]
        pages_with_chinese += bool(texts)
        for text in texts:
            if text.find_parent(attrs={"lang": "zh"}) is None:
                unmarked.append(f"{page.relative_to(site)}: {text.strip()[:40]!r}")
    assert pages_with_chinese >= 3, "the glossary, FAQ and front page carry Chinese terms"
    assert not unmarked, "Chinese text without lang=\"zh\":\n" + "\n".join(unmarked[:20])
