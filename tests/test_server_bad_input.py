"""Hostile or careless input at the HTTP edge: text that is not Unicode, JSON nested absurdly
deep, bodies and fields over their limits, session folders outside the server's root. Each is
refused with a clear message and leaves nothing half-done behind."""

from __future__ import annotations

import os

import pytest

from glue_jupyter.server.shapes import body_limit

LONE_SURROGATE = b'"\\ud800 tail"'  # JSON's escape for a UTF-16 half with no partner


@pytest.fixture
def glue_config(glue_config):
    # Small limits, so the tests need no megabyte bodies; the defaults are checked separately.
    return {**glue_config, "max_title_length": 50, "max_prompt_length": 2000}


# -- text that is not Unicode ---------------------------------------------------------------


@pytest.mark.parametrize("field", [b"title", b"prompt", b"cwd", b"agent"])
async def test_a_lone_surrogate_in_a_new_session_is_400(glue_api, field):
    body = b'{"agent": "demo", "%s": %s}' % (field, LONE_SURROGATE) if field != b"agent" \
        else b'{"agent": %s}' % LONE_SURROGATE
    status, reply = await glue_api.request("POST", "sessions", body=body)
    assert status == 400, reply
    assert "lone surrogate (U+D800)" in reply["message"] and field.decode() in reply["message"]
    assert (await glue_api.ok("GET", "sessions"))["sessions"] == []  # nothing half-created


async def test_a_lone_surrogate_in_a_prompt_leaves_the_session_idle_and_followers_whole(glue_api):
    sid = (await glue_api.start())["id"]
    idle = await glue_api.wait_for(sid, "idle")
    follower = await glue_api.stream(sid, after_seq=idle["last_seq"])
    try:
        context = b'[{"type": "resource", "uri": "mem://df", "name": "df", "text": %s}]' % LONE_SURROGATE
        for control, body in (("prompt", b'{"text": %s}' % LONE_SURROGATE),
                              ("resume", b'{"prompt": %s}' % LONE_SURROGATE),
                              ("prompt", b'{"text": "quick", "context": %s}' % context)):
            status, reply = await glue_api.request("POST", "sessions", sid, control, body=body)
            assert status == 400 and "lone surrogate" in reply["message"], (control, reply)
        assert "field context[0].text" in reply["message"]
        after = await glue_api.ok("GET", "sessions", sid)
        assert after["state"] == "idle" and after["turns"] == idle["turns"]
        stored = [e["kind"] for e in await glue_api.events(sid, after_seq=idle["last_seq"])]
        assert "user_message" not in stored and "turn_start" not in stored  # nothing of the refused

        # The session still works, and the follower sees that turn with no gap.
        await glue_api.control(sid, "prompt", text="quick")
        await follower.until(lambda e: e["kind"] == "turn_end")
        seqs = [e["seq"] for e in follower.events]
        assert seqs == list(range(idle["last_seq"] + 1, seqs[-1] + 1))  # no gap, no repeat
    finally:
        follower.close()


async def test_surrogate_pairs_are_fine(glue_api):
    session = await glue_api.start(title="\U0001F600 smile")  # json.dumps writes \ud83d\ude00
    assert session["title"] == "\U0001F600 smile"


# -- JSON too deep, bodies and fields too big ---------------------------------------------


async def test_a_body_over_the_size_limit_is_413(glue_api):
    limit = body_limit({"max_title_length": 50, "max_prompt_length": 2000})
    assert limit == 12 * (50 + 2000 + 1024 * 1024) + 64 * 1024  # the context blocks' 1 MiB included
    body = b'{"agent": "demo", "prompt": "' + b"x" * limit + b'"}'
    status, reply = await glue_api.request("POST", "sessions", body=body)
    assert status == 413, reply
    assert reply["message"] == f"The request body is {len(body):,} bytes; the limit is {limit:,} bytes."


async def test_titles_and_prompts_over_their_limits_are_400_naming_the_knob(glue_api):
    status, reply = await glue_api.request("POST", "sessions", body={"agent": "demo", "title": "t" * 51})
    assert status == 400
    assert reply["message"] == ("Field title is too long: 51 characters; the limit is 50 "
                                "(c.GlueApp.max_title_length).")
    status, reply = await glue_api.request("POST", "sessions", body={"agent": "demo", "prompt": "p" * 2001})
    assert status == 400 and "(c.GlueApp.max_prompt_length)" in reply["message"]
    assert (await glue_api.ok("GET", "sessions"))["sessions"] == []

    sid = (await glue_api.start(title="t" * 50, prompt="quick " + "p" * 1994))["id"]  # at the limits
    await glue_api.wait_for(sid, "idle")
    for control, field in (("prompt", "text"), ("resume", "prompt")):
        status, reply = await glue_api.request("POST", "sessions", sid, control, body={field: "p" * 2001})
        assert status == 400 and "2,001 characters; the limit is 2,000" in reply["message"], reply
    assert (await glue_api.ok("GET", "sessions", sid))["state"] == "idle"


class TestDefaultLimits:
    @pytest.fixture
    def glue_config(self, glue_config):
        return {k: v for k, v in glue_config.items() if not k.startswith("max_") or k == "max_active_sessions"}

    async def test_a_ten_megabyte_title_is_refused(self, glue_api):
        status, reply = await glue_api.request("POST", "sessions",
                                               body={"agent": "demo", "title": "t" * 10_000_000})
        assert status == 400 and "10,000,000 characters; the limit is 200" in reply["message"]
        status, reply = await glue_api.request("POST", "sessions",
                                               body={"agent": "demo", "title": "t" * 30_000_000})
        assert status == 413, reply
        status, reply = await glue_api.request("POST", "sessions", body={"agent": "demo", "title": "t" * 201})
        assert status == 400 and "the limit is 200" in reply["message"]
        assert (await glue_api.ok("GET", "sessions"))["sessions"] == []

    @pytest.mark.parametrize("levels", [33, 100_000])
    async def test_deeply_nested_json_is_400(self, glue_api, levels):
        body = b'{"agent": ' + b"[" * levels + b"]" * levels + b"}"
        status, reply = await glue_api.request("POST", "sessions", body=body)
        assert status == 400, reply
        assert reply["message"] == "The request body is nested too deeply (at most 32 levels)."


# -- the session folder ---------------------------------------------------------------------


@pytest.mark.parametrize("cwd", ["/", "/etc", "~", "/proc/self", "..", "../..", "/tmp"])
async def test_folders_outside_the_root_are_refused(glue_api, jp_root_dir, cwd):
    status, reply = await glue_api.request("POST", "sessions", body={"agent": "demo", "cwd": cwd})
    assert status == 403, reply
    assert f"is outside {os.path.realpath(jp_root_dir)}" in reply["message"]
    assert "c.GlueApp.allowed_roots" in reply["message"]
    assert (await glue_api.ok("GET", "sessions"))["sessions"] == []


async def test_folders_inside_the_root_relative_or_absolute(glue_api, jp_root_dir):
    (jp_root_dir / "a" / "b").mkdir(parents=True)
    assert (await glue_api.start(cwd="a/b"))["cwd"] == str((jp_root_dir / "a" / "b").resolve())
    assert (await glue_api.start(cwd=str(jp_root_dir / "a")))["cwd"] == str((jp_root_dir / "a").resolve())
    assert (await glue_api.start(cwd="a/b/../.."))["cwd"] == str(jp_root_dir.resolve())


async def test_a_symlink_out_of_the_root_is_refused_one_inside_is_followed(glue_api, jp_root_dir, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (jp_root_dir / "escape").symlink_to(outside)
    (jp_root_dir / "inner").mkdir()
    (jp_root_dir / "alias").symlink_to(jp_root_dir / "inner")
    status, reply = await glue_api.request("POST", "sessions", body={"agent": "demo", "cwd": "escape"})
    assert status == 403 and f"Folder {outside.resolve()} is outside" in reply["message"]
    session = await glue_api.start(cwd="alias")
    assert session["cwd"] == str((jp_root_dir / "inner").resolve())


async def test_outside_folders_are_refused_whether_they_exist_or_not(glue_api):
    # No probing the file system outside the root through our error messages.
    status, reply = await glue_api.request("POST", "sessions", body={"agent": "demo", "cwd": "/no/such/place"})
    assert status == 403 and "does not exist" not in reply["message"]
    for cwd, says in (("no/such/place", "does not exist"), ("a\0b", "NUL"), ("x" * 5000, "cannot be used")):
        status, reply = await glue_api.request("POST", "sessions", body={"agent": "demo", "cwd": cwd})
        assert status == 400 and says in reply["message"], (cwd[:20], reply)


class TestAllowedRoots:
    @pytest.fixture
    def extra_root(self, tmp_path):
        folder = tmp_path / "data"
        (folder / "project").mkdir(parents=True)
        return folder

    @pytest.fixture
    def glue_config(self, glue_config, extra_root):
        return {**glue_config, "allowed_roots": [str(extra_root)]}

    async def test_an_allowed_root_opens_its_tree_and_nothing_else(self, glue_api, extra_root):
        session = await glue_api.start(cwd=str(extra_root / "project"))
        assert session["cwd"] == str((extra_root / "project").resolve())
        status, reply = await glue_api.request("POST", "sessions", body={"agent": "demo", "cwd": "/etc"})
        assert status == 403 and str(extra_root.resolve()) in reply["message"]
