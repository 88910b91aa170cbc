"""lrs.xapi.attachments without HTTP: multipart parsing and building, matching parts to statements, signatures."""
import copy
import hashlib
import time

import orjson
import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from lrs.xapi.attachments import (AttachmentError, Part, build_multipart, check_attachments, parse_multipart,
                                  sha2s_of)
from tests.helpers import agent, new_id, statement
from tests.signing import (JWS_TYPE, SIGNATURE_USAGE, attachment, compact, make_cert, make_key, multipart_body,
                           sha256, sign_statement, signature_part, signed_statement, signer, statement_payload,
                           tamper, with_attachments)

BINARY = bytes(range(256)) * 4 + b"\r\n--not-a-boundary\r\n\x00\r\n\r\n--"


def part(content: bytes, content_type="text/plain", sha2=None) -> Part:
    return Part(sha2=sha2 or sha256(content), content_type=content_type, content=content)


# ------------------------------------------------------------------------------------------------ parse

def test_parse_splits_statements_and_binary_attachments_exactly():
    stmt = with_attachments(statement(), attachment(BINARY, "application/octet-stream"), attachment(b"hei"))
    body, ctype = multipart_body(stmt, [("application/octet-stream", BINARY), ("text/plain; charset=utf-8", b"hei")])
    data, parts = parse_multipart(body, ctype)
    assert orjson.loads(data) == stmt
    assert parts == [Part(sha256(BINARY), "application/octet-stream", BINARY),
                     Part(sha256(b"hei"), "text/plain; charset=utf-8", b"hei")]


def test_parse_the_example_of_the_spec():
    """xAPI 1.0.3 Communication 1.5.2: quoted boundary with odd characters, no space after the colons."""
    attached = b"here is a simple attachment"
    stmt = {"actor": {"mbox": "mailto:sample.agent@example.com", "objectType": "Agent"},
            "verb": {"id": "http://adlnet.gov/expapi/verbs/answered"},
            "object": {"id": "http://www.example.com/tincan/activities/multipart"},
            "attachments": [{"usageType": "http://example.com/attachment-usage/test",
                             "display": {"en-US": "A test attachment"}, "contentType": "text/plain; charset=ascii",
                             "length": 27,
                             "sha2": "495395e777cd98da653df9615d09c0fd6bb2f8d4788394cd53c56a3bfdcd848a"}]}
    body = (b"\r\n--abcABC0123'()+_,-./:=?\r\nContent-Type:application/json\r\n\r\n" + orjson.dumps(stmt)
            + b"\r\n--abcABC0123'()+_,-./:=?\r\nContent-Type:text/plain\r\nContent-Transfer-Encoding:binary\r\n"
            b"X-Experience-API-Hash:495395e777cd98da653df9615d09c0fd6bb2f8d4788394cd53c56a3bfdcd848a\r\n\r\n"
            + attached + b"\r\n--abcABC0123'()+_,-./:=?--")
    data, parts = parse_multipart(body, "multipart/mixed; boundary=\"abcABC0123'()+_,-./:=?\"")
    assert orjson.loads(data) == stmt
    assert parts == [Part("495395e777cd98da653df9615d09c0fd6bb2f8d4788394cd53c56a3bfdcd848a", "text/plain", attached)]
    assert set(check_attachments([stmt], parts)) == {parts[0].sha2}


def test_parse_ignores_preamble_epilogue_and_transport_padding_and_reads_headers_case_insensitively():
    body = (b"This is a preamble.\r\n--b1 \t\r\ncontent-type: Application/JSON; charset=UTF-8\r\n\r\n[]"
            b"\r\n--b1\r\nCONTENT-TYPE: image/png\r\ncontent-transfer-encoding: BINARY\r\n"
            b"x-experience-api-hash: " + sha256(b"png").upper().encode() + b"\r\n"
            b"X-Folded: first\r\n  second\r\n\r\npng\r\n--b1--  \r\nepilogue --b1 ignored\r\n")
    data, parts = parse_multipart(body, "Multipart/Mixed; boundary=b1")
    assert data == b"[]"
    assert parts == [Part(sha256(b"png"), "image/png", b"png")]


def test_parse_tolerates_lf_only_line_ends():
    stmt = with_attachments(statement(), attachment(b"a\r\nb\nc"))
    body, ctype = multipart_body(stmt, [("text/plain", b"a\r\nb\nc")], eol=b"\n")
    assert b"\r\n--" not in body
    data, parts = parse_multipart(body, ctype)
    assert orjson.loads(data) == stmt and parts[0].content == b"a\r\nb\nc"


def test_parse_keeps_a_trailing_cr_of_the_content_in_crlf_bodies():
    body, ctype = multipart_body([], [("application/octet-stream", b"ends in CR\r")])
    assert parse_multipart(body, ctype)[1][0].content == b"ends in CR\r"


def test_parse_a_statement_without_attachments_and_boundary_like_text_inside_content():
    body, ctype = multipart_body(statement(), [], boundary="b")
    assert parse_multipart(body, ctype)[1] == []
    tricky = b"\r\n--bx\r\n--b-\r\n--b0 \r\n"  # lines that start with the boundary but are not boundary lines
    body, ctype = multipart_body([], [("text/plain", tricky)], boundary="b")
    assert parse_multipart(body, ctype)[1][0].content == tricky


def test_parse_an_empty_attachment():
    body, ctype = multipart_body([], [("text/plain", b"")])
    assert parse_multipart(body, ctype)[1] == [Part(sha256(b""), "text/plain", b"")]


@pytest.mark.parametrize("header, message", [
    ("multipart/mixed", "boundary"),
    ("multipart/mixed;", "boundary"),
    ('multipart/mixed; boundary=""', "boundary"),
    ("multipart/form-data; boundary=b", "must be multipart/mixed"),
    ("application/json", "must be multipart/mixed"),
])
def test_parse_rejects_a_content_type_without_a_usable_boundary(header, message):
    body, _ = multipart_body([], [], boundary="b")
    with pytest.raises(AttachmentError, match=message):
        parse_multipart(body, header)


def test_parse_rejects_a_body_without_the_boundary_or_without_parts():
    body, ctype = multipart_body([], [], boundary="b")
    with pytest.raises(AttachmentError, match="no parts"):
        parse_multipart(body, "multipart/mixed; boundary=other")
    with pytest.raises(AttachmentError, match="no parts"):
        parse_multipart(b"--b--\r\n", "multipart/mixed; boundary=b")
    with pytest.raises(AttachmentError, match="no parts"):
        parse_multipart(b"", "multipart/mixed; boundary=b")


def test_parse_rejects_a_body_without_the_closing_boundary():
    body, ctype = multipart_body([], [("text/plain", b"x")])
    with pytest.raises(AttachmentError, match="closing line"):
        parse_multipart(body[:body.rindex(b"\r\n--")], ctype)


@pytest.mark.parametrize("statements_type", ["text/plain", "application/octet-stream", "multipart/mixed"])
def test_parse_rejects_a_first_part_that_is_not_json(statements_type):
    body, ctype = multipart_body(statement(), [], statements_type=statements_type)
    with pytest.raises(AttachmentError, match="part 1 .* must have Content-Type application/json"):
        parse_multipart(body, ctype)


def test_parse_rejects_a_first_part_without_content_type():
    body = b"--b\r\n\r\n{}\r\n--b--\r\n"
    with pytest.raises(AttachmentError, match="part 1 .* no Content-Type"):
        parse_multipart(body, "multipart/mixed; boundary=b")


def test_parse_rejects_statements_before_the_first_boundary():
    """Conformance XAPI-00131: the JSON is sent before the first boundary line, so it is only a preamble."""
    body = (b"Content-Type: application/json\r\n\r\n{}\r\n--b\r\nContent-Type: text/plain\r\n"
            b"Content-Transfer-Encoding: binary\r\nX-Experience-API-Hash: " + sha256(b"x").encode()
            + b"\r\n\r\nx\r\n--b--\r\n")
    with pytest.raises(AttachmentError, match="part 1 .* application/json, not text/plain"):
        parse_multipart(body, "multipart/mixed; boundary=b")


def test_parse_rejects_statements_split_over_two_json_parts():
    """Conformance XAPI-00133: a second application/json part is an attachment part without its headers."""
    body, ctype = multipart_body([], [("application/json", b"{}", {"Content-Transfer-Encoding": None,
                                                                     "X-Experience-API-Hash": None})])
    with pytest.raises(AttachmentError, match="attachment part 2: X-Experience-API-Hash header missing"):
        parse_multipart(body, ctype)


@pytest.mark.parametrize("extra, message", [
    ({"X-Experience-API-Hash": None}, "attachment part 2: X-Experience-API-Hash header missing"),
    ({"X-Experience-API-Hash": "not-hex!"}, "attachment part 2: X-Experience-API-Hash 'not-hex!' is not a hex"),
    ({"Content-Transfer-Encoding": None}, "attachment part 2: Content-Transfer-Encoding header missing"),
    ({"Content-Transfer-Encoding": "base64"},
     "attachment part 2: Content-Transfer-Encoding must be binary, not base64"),
    ({"Content-Transfer-Encoding": "8bit"}, "must be binary"),
])
def test_parse_rejects_attachment_parts_without_the_xapi_headers(extra, message):
    body, ctype = multipart_body([], [("text/plain", b"x", extra)])
    with pytest.raises(AttachmentError, match=message):
        parse_multipart(body, ctype)


def test_parse_names_the_part_that_is_wrong():
    body, ctype = multipart_body([], [("text/plain", b"x"), ("text/plain", b"y", {"X-Experience-API-Hash": None})])
    with pytest.raises(AttachmentError, match="attachment part 3: X-Experience-API-Hash header missing"):
        parse_multipart(body, ctype)


@pytest.mark.parametrize("chunk, message", [
    (b"Content-Type: text/plain\r\nno blank line follows", "no blank line after the header lines"),
    (b"this is not a header\r\n\r\ncontent", "is not a header line"),
    (b" folded first\r\n\r\ncontent", "continuation"),
    (b"X-Experience-API-Hash: aa\r\nX-Experience-API-Hash: bb\r\n\r\n", "two different x-experience-api-hash"),
    (b"", "empty part"),
])
def test_parse_rejects_malformed_part_headers(chunk, message):
    body = b"--b\r\nContent-Type: application/json\r\n\r\n{}\r\n--b\r\n" + chunk + b"\r\n--b--"
    with pytest.raises(AttachmentError, match=message):
        parse_multipart(body, "multipart/mixed; boundary=b")


def test_parse_takes_linear_time_on_large_and_awkward_bodies():
    big = (b"\r\n-" * 400_000 + b"\r\n--bound" * 200_000 + b"\r\n--boundaryX" * 100_000  # ~12 MB
           + b"\n--boundary \t" * 100_000 + bytes(range(256)) * 20_000)
    body, ctype = multipart_body([], [("application/octet-stream", big), ("text/plain", b"\n" * 1_000_000)],
                                 boundary="boundary")
    started = time.perf_counter()
    _, parts = parse_multipart(body, ctype)
    assert time.perf_counter() - started < 5  # about 0.1 s; quadratic work would take minutes
    assert [p.content for p in parts] == [big, b"\n" * 1_000_000]


# ------------------------------------------------------------------------------------------------ build

def test_build_then_parse_gives_back_the_same_parts():
    parts = [part(BINARY, "application/octet-stream"), part(b"hei\r\n", "text/plain; charset=utf-8"),
             part(b"", "application/x-empty")]
    body, ctype = build_multipart(b'{"statements":[],"more":""}', parts)
    assert ctype.startswith("multipart/mixed; boundary=")
    data, back = parse_multipart(body, ctype)
    assert data == b'{"statements":[],"more":""}'
    assert back == parts
    assert body.startswith(b"--") and body.endswith(b"--\r\n")
    assert b"\r\nContent-Transfer-Encoding: binary\r\nX-Experience-API-Hash: " + parts[0].sha2.encode() in body


def test_build_sends_each_attachment_once_and_keeps_headers_on_one_line():
    p = part(b"data", "text/plain\r\nX-Injected: yes")
    body, ctype = build_multipart(b"{}", [p, p])
    _, back = parse_multipart(body, ctype)
    assert back == [Part(p.sha2, "text/plain X-Injected: yes", b"data")]
    assert b"\r\nX-Injected" not in body


def test_build_with_no_attachments_is_still_multipart():
    body, ctype = build_multipart(b"{}", [])
    assert parse_multipart(body, ctype) == (b"{}", [])


# ------------------------------------------------------------------------------------------------ check

def test_check_matches_parts_to_attachment_objects_by_hash():
    stmt = with_attachments(statement(), attachment(b"one"), attachment(b"two", "image/png"))
    stmt["attachments"][1]["sha2"] = stmt["attachments"][1]["sha2"].upper()
    got = check_attachments([stmt], [part(b"two", "image/png"), part(b"one")])
    assert got == {sha256(b"one"): part(b"one"), sha256(b"two"): part(b"two", "image/png")}
    assert [a["sha2"].lower() in got for a in stmt["attachments"]] == [True, True]


def test_check_accepts_file_urls_without_parts():
    stmt = with_attachments(statement(), attachment(b"far away", fileUrl="https://files.example.no/a.txt"))
    assert check_attachments([stmt], []) == {}
    assert check_attachments([stmt], [part(b"far away")]) == {sha256(b"far away"): part(b"far away")}


def test_check_requires_a_part_for_an_attachment_without_file_url():
    stmts = [statement(), with_attachments(statement(), attachment(b"one"), attachment(b"two"))]
    with pytest.raises(AttachmentError, match=r"statement\[1\]\.attachments\[1\] has no fileUrl and no attachment "
                                              rf"part with X-Experience-API-Hash {sha256(b'two')}"):
        check_attachments(stmts, [part(b"one")])
    with pytest.raises(AttachmentError, match=r"^statement\.attachments\[0\] has no fileUrl"):
        check_attachments([stmts[1]], [])


def test_check_rejects_parts_no_statement_names():
    """Conformance XAPI-00128: excess multipart sections."""
    stmt = with_attachments(statement(), attachment(b"one"))
    with pytest.raises(AttachmentError, match=rf"attachment part 3 \(X-Experience-API-Hash {sha256(b'extra')}\) "
                                              "is not the sha2 of any attachment"):
        check_attachments([stmt], [part(b"one"), part(b"extra")])
    with pytest.raises(AttachmentError, match="is not the sha2 of any attachment"):
        check_attachments([statement()], [part(b"extra")])


def test_check_rejects_content_that_does_not_have_its_hash():
    stmt = with_attachments(statement(), attachment(b"one"))
    with pytest.raises(AttachmentError, match="attachment part 2: the content does not have the SHA256 hash"):
        check_attachments([stmt], [part(b"tampered", sha2=sha256(b"one"))])


@pytest.mark.parametrize("sha2", ["abc", "0" * 63, "0" * 130, "g" * 64])
def test_check_rejects_hashes_that_are_not_sha2(sha2):
    with pytest.raises(AttachmentError, match="is not a SHA-256, SHA-384 or SHA-512 hash"):
        check_attachments([statement()], [part(b"x", sha2=sha2)])


@pytest.mark.parametrize("algo", ["sha224", "sha256", "sha384", "sha512"])
def test_check_accepts_every_sha2_length(algo):
    digest = hashlib.new(algo, b"content").hexdigest()
    stmt = with_attachments(statement(), {**attachment(b"content"), "sha2": digest})
    assert list(check_attachments([stmt], [part(b"content", sha2=digest)])) == [digest]


def test_check_finds_attachments_of_a_substatement():
    sub = {"objectType": "SubStatement", "actor": agent("ola"), "verb": {"id": "http://example.com/verbs/planned"},
           "object": {"id": "http://example.com/activities/x"}, "attachments": [attachment(b"plan")]}
    stmt = statement(object=sub)
    assert list(check_attachments([stmt], [part(b"plan")])) == [sha256(b"plan")]
    with pytest.raises(AttachmentError, match=r"statement\.object\.attachments\[0\] has no fileUrl"):
        check_attachments([stmt], [])


def test_sha2s_of_lists_the_attachments_of_statement_and_substatement_once():
    sub = {"objectType": "SubStatement", "actor": agent("ola"), "verb": {"id": "http://example.com/verbs/planned"},
           "object": {"id": "http://example.com/activities/x"}, "attachments": [attachment(b"plan")]}
    one = attachment(b"one")
    stmt = statement(object=sub, attachments=[{**one, "sha2": one["sha2"].upper()}, one])
    assert sha2s_of(stmt) == [sha256(b"one"), sha256(b"plan")]
    assert sha2s_of(statement()) == []


def test_check_lets_statements_of_a_batch_share_one_part_and_tolerates_duplicates():
    stmts = [with_attachments(statement(), attachment(b"shared")) for _ in range(3)]
    assert check_attachments(stmts, [part(b"shared"), part(b"shared")]) == {sha256(b"shared"): part(b"shared")}


def test_check_gives_a_part_without_content_type_the_attachment_s_content_type():
    stmt = with_attachments(statement(), attachment(b"<svg/>", "image/svg+xml"))
    got = check_attachments([stmt], [part(b"<svg/>", "")])
    assert got[sha256(b"<svg/>")].content_type == "image/svg+xml"


def test_check_does_not_change_the_statements():
    signed, token = signed_statement(statement(id=new_id()))
    before = copy.deepcopy(signed)
    check_attachments([signed], [part(token, JWS_TYPE)])
    assert signed == before


# ------------------------------------------------------------------------------------------------ signatures

def sig_check(signed, token, *more_parts, part_type=JWS_TYPE):
    return check_attachments([signed], [part(token, part_type), *more_parts])


@pytest.mark.parametrize("alg", ["RS256", "RS384", "RS512"])
def test_signed_statement_with_x5c_is_accepted(alg):
    signed, token = signed_statement(statement(id=new_id()), alg=alg)
    assert list(sig_check(signed, token)) == [sha256(token)]


@pytest.mark.parametrize("alg", ["RS256", "RS512"])
def test_signed_statement_without_certificate_is_accepted(alg):
    """Without x5c there is no key to check against; the JWS must still be well formed and match."""
    signed, token = signed_statement(statement(), alg=alg, cert=False)
    assert b"x5c" not in token
    assert list(sig_check(signed, token)) == [sha256(token)]


def test_signed_statement_with_a_certificate_chain_and_other_attachments():
    ca_key = make_key()
    ca = make_cert(ca_key, "test CA")
    key = make_key()
    cert = make_cert(key, "signer", issuer_key=ca_key, issuer_name="test CA")
    stmt = with_attachments(statement(id=new_id()), attachment(b"certificate.pdf", "application/pdf"))
    signed, token = signed_statement(stmt, key, [cert, ca])
    assert set(sig_check(signed, token, part(b"certificate.pdf", "application/pdf"))) == {
        sha256(token), sha256(b"certificate.pdf")}


SPEC_STATEMENT = {  # xAPI 1.0.3 Data, Appendix D: Example Signed Statement
    "version": "1.0.0",
    "id": "33cff416-e331-4c9d-969e-5373a1756120",
    "actor": {"mbox": "mailto:example@example.com", "name": "Example Learner", "objectType": "Agent"},
    "verb": {"id": "http://adlnet.gov/expapi/verbs/experienced", "display": {"en-US": "experienced"}},
    "object": {"id": "https://www.youtube.com/watch?v=xh4kIiH3Sm8", "objectType": "Activity",
               "definition": {"name": {"en-US": "Tax Tips & Information : How to File a Tax Return "},
                              "description": {"en-US": "Filing a tax return will require filling out either a "
                                                       "1040, 1040A or 1040EZ form"}}},
    "timestamp": "2013-04-01T12:00:00Z",
    "attachments": [{"usageType": "http://adlnet.gov/expapi/attachments/signature",
                     "display": {"en-US": "Signature"}, "description": {"en-US": "A test signature"},
                     "contentType": "application/octet-stream", "length": 4235,
                     "sha2": "672fa5fa658017f1b72d65036f13379c6ab05d4ab3b6664908d8acf0b6a0c634"}],
}
SPEC_JWS = (  # its JWS: RS256 with a 1024-bit key and a two-certificate x5c chain
    b"ew0KICAgICJhbGciOiAiUlMyNTYiLA0KICAgICJ4NWMiOiBbDQogICAgICAgICJNSUlEQVRDQ0FtcWdBd0lCQWdJSkFNQjFjc051QTYr"
    b"a01BMEdDU3FHU0liM0RRRUJCUVVBTUhFeEN6QUpCZ05WQkFZVEFsVlRNUkl3RUFZRFZRUUlFd2xVWlc1dVpYTnpaV1V4R0RBV0JnTlZC"
    b"QW9URDBWNFlXMXdiR1VnUTI5dGNHRnVlVEVRTUE0R0ExVUVBeE1IUlhoaGJYQnNaVEVpTUNBR0NTcUdTSWIzRFFFSkFSWVRaWGhoYlhC"
    b"c1pVQmxlR0Z0Y0d4bExtTnZiVEFlRncweE16QTBNRFF4TlRJNE16QmFGdzB4TkRBME1EUXhOVEk0TXpCYU1JR1dNUXN3Q1FZRFZRUUdF"
    b"d0pWVXpFU01CQUdBMVVFQ0JNSlZHVnVibVZ6YzJWbE1SRXdEd1lEVlFRSEV3aEdjbUZ1YTJ4cGJqRVlNQllHQTFVRUNoTVBSWGhoYlhC"
    b"c1pTQkRiMjF3WVc1NU1SQXdEZ1lEVlFRTEV3ZEZlR0Z0Y0d4bE1SQXdEZ1lEVlFRREV3ZEZlR0Z0Y0d4bE1TSXdJQVlKS29aSWh2Y05B"
    b"UWtCRmhObGVHRnRjR3hsUUdWNFlXMXdiR1V1WTI5dE1JR2ZNQTBHQ1NxR1NJYjNEUUVCQVFVQUE0R05BRENCaVFLQmdRRGp4dlpYRjMw"
    b"V0w0b0tqWllYZ1IwWnlhWCt1M3k2K0pxVHFpTmtGYS9WVG5ldDZMeTJPVDZabW1jSkVQbnEzVW5ld3BIb09RK0dmaGhUa1cxM2owNmo1"
    b"aU5uNG9iY0NWV1RMOXlYTnZKSCtLbyt4dTRZbC95U1BScklQeVRqdEhkRzBNMlh6SWxtbUxxbStDQVMrS0NiSmVINHRmNTQza0lXQzVw"
    b"QzVwM2NWUUlEQVFBQm8zc3dlVEFKQmdOVkhSTUVBakFBTUN3R0NXQ0dTQUdHK0VJQkRRUWZGaDFQY0dWdVUxTk1JRWRsYm1WeVlYUmxa"
    b"Q0JEWlhKMGFXWnBZMkYwWlRBZEJnTlZIUTRFRmdRVVZzM3Y1YWZFZE9lb1llVmFqQVFFNHYwV1MxUXdId1lEVlIwakJCZ3dGb0FVeVZJ"
    b"YzN5dnJhNEVCejIwSTRCRjM5SUFpeEJrd0RRWUpLb1pJaHZjTkFRRUZCUUFEZ1lFQWdTL0ZGNUQwSG5qNDRydlQ2a2duM2tKQXZ2Mmxq"
    b"L2Z5anp0S0lyWVMzM2xqWEduNmdHeUE0cXRiWEEyM1ByTzR1Yy93WUNTRElDRHBQb2JoNjJ4VENkOXFPYktoZ3dXT2kwNVBTQkxxVXUz"
    b"bXdmQWUxNUxKQkpCcVBWWjRLMGtwcGVQQlU4bTZhSVpvSDU3TC85dDRPb2FMOHlLcy9xaktGZUkxT0ZXWnh2QT0iLA0KICAgICAgICAi"
    b"TUlJRE56Q0NBcUNnQXdJQkFnSUpBTUIxY3NOdUE2K2pNQTBHQ1NxR1NJYjNEUUVCQlFVQU1IRXhDekFKQmdOVkJBWVRBbFZUTVJJd0VB"
    b"WURWUVFJRXdsVVpXNXVaWE56WldVeEdEQVdCZ05WQkFvVEQwVjRZVzF3YkdVZ1EyOXRjR0Z1ZVRFUU1BNEdBMVVFQXhNSFJYaGhiWEJz"
    b"WlRFaU1DQUdDU3FHU0liM0RRRUpBUllUWlhoaGJYQnNaVUJsZUdGdGNHeGxMbU52YlRBZUZ3MHhNekEwTURReE5USTFOVE5hRncweU16"
    b"QTBNREl4TlRJMU5UTmFNSEV4Q3pBSkJnTlZCQVlUQWxWVE1SSXdFQVlEVlFRSUV3bFVaVzV1WlhOelpXVXhHREFXQmdOVkJBb1REMFY0"
    b"WVcxd2JHVWdRMjl0Y0dGdWVURVFNQTRHQTFVRUF4TUhSWGhoYlhCc1pURWlNQ0FHQ1NxR1NJYjNEUUVKQVJZVFpYaGhiWEJzWlVCbGVH"
    b"RnRjR3hsTG1OdmJUQ0JuekFOQmdrcWhraUc5dzBCQVFFRkFBT0JqUUF3Z1lrQ2dZRUExc0JuQldQWjBmN1dKVUZUSnk1KzAxU2xTNVo2"
    b"RERENlV5ZTl2SzlBeWNnVjVCMytXQzhIQzV1NWg5MU11akFDMUFSUFZVT3RzdlBSczQ1cUtORklnSUdSWEtQQXdaamF3RUkyc0NKUlNL"
    b"VjQ3aTZCOGJEdjRXa3VHdlFhdmVaR0kwcWxtTjVSMUVpbTJnVUl0UmoxaGdjQzlyUWF2amxuRktEWTJybFhHdWtDQXdFQUFhT0IxakNC"
    b"MHpBZEJnTlZIUTRFRmdRVXlWSWMzeXZyYTRFQnoyMEk0QkYzOUlBaXhCa3dnYU1HQTFVZEl3U0JtekNCbUlBVXlWSWMzeXZyYTRFQnoy"
    b"MEk0QkYzOUlBaXhCbWhkYVJ6TUhFeEN6QUpCZ05WQkFZVEFsVlRNUkl3RUFZRFZRUUlFd2xVWlc1dVpYTnpaV1V4R0RBV0JnTlZCQW9U"
    b"RDBWNFlXMXdiR1VnUTI5dGNHRnVlVEVRTUE0R0ExVUVBeE1IUlhoaGJYQnNaVEVpTUNBR0NTcUdTSWIzRFFFSkFSWVRaWGhoYlhCc1pV"
    b"QmxlR0Z0Y0d4bExtTnZiWUlKQU1CMWNzTnVBNitqTUF3R0ExVWRFd1FGTUFNQkFmOHdEUVlKS29aSWh2Y05BUUVGQlFBRGdZRUFEaHdU"
    b"ZWJHazczNXlLaG04RHFDeHZObkVaME54c1lFWU9qZ1JHMXlYVGxXNXBFNjkxZlNINUFaK1Q2ZnB3cFpjV1k1UVlrb042RG53ak94R2tT"
    b"ZlFDMy95R21jVURLQlB3aVo1TzJzOUMrZkUxa1VFbnJYMlhlYTRhZ1ZuZ016UjhEUTZvT2F1TFdxZWhEQitnMkVOV1JMb1ZnUyttYTUv"
    b"WWNzMEdUeXJFQ1k9Ig0KICAgIF0NCn0.ew0KICAgICJ2ZXJzaW9uIjogIjEuMC4wIiwNCiAgICAiaWQiOiAiMzNjZmY0MTYtZTMzMS00"
    b"YzlkLTk2OWUtNTM3M2ExNzU2MTIwIiwNCiAgICAiYWN0b3IiOiB7DQogICAgICAgICJtYm94IjogIm1haWx0bzpleGFtcGxlQGV4YW1w"
    b"bGUuY29tIiwNCiAgICAgICAgIm5hbWUiOiAiRXhhbXBsZSBMZWFybmVyIiwNCiAgICAgICAgIm9iamVjdFR5cGUiOiAiQWdlbnQiDQog"
    b"ICAgfSwNCiAgICAidmVyYiI6IHsNCiAgICAgICAgImlkIjogImh0dHA6Ly9hZGxuZXQuZ292L2V4cGFwaS92ZXJicy9leHBlcmllbmNl"
    b"ZCIsDQogICAgICAgICJkaXNwbGF5Ijogew0KICAgICAgICAgICAgImVuLVVTIjogImV4cGVyaWVuY2VkIg0KICAgICAgICB9DQogICAg"
    b"fSwNCiAgICAib2JqZWN0Ijogew0KICAgICAgICAiaWQiOiAiaHR0cHM6Ly93d3cueW91dHViZS5jb20vd2F0Y2g_dj14aDRrSWlIM1Nt"
    b"OCIsDQogICAgICAgICJvYmplY3RUeXBlIjogIkFjdGl2aXR5IiwNCiAgICAgICAgImRlZmluaXRpb24iOiB7DQogICAgICAgICAgICAi"
    b"bmFtZSI6IHsNCiAgICAgICAgICAgICAgICAiZW4tVVMiOiAiVGF4IFRpcHMgJiBJbmZvcm1hdGlvbiA6IEhvdyB0byBGaWxlIGEgVGF4"
    b"IFJldHVybiAiDQogICAgICAgICAgICB9LA0KICAgICAgICAgICAgImRlc2NyaXB0aW9uIjogew0KICAgICAgICAgICAgICAgICJlbi1V"
    b"UyI6ICJGaWxpbmcgYSB0YXggcmV0dXJuIHdpbGwgcmVxdWlyZSBmaWxsaW5nIG91dCBlaXRoZXIgYSAxMDQwLCAxMDQwQSBvciAxMDQw"
    b"RVogZm9ybSINCiAgICAgICAgICAgIH0NCiAgICAgICAgfQ0KICAgIH0sDQogICAgInRpbWVzdGFtcCI6ICIyMDEzLTA0LTAxVDEyOjAw"
    b"OjAwWiINCn0.FWuwaPhwUbkk7h9sKW5zSvjsYNugvxJ-TrVaEgt_DCUT0bmKhQScRrjMB6P9O50uznPwT66oF1NnU_G0HVhRzS5voiXE"
    b"-y7tT3z0M3-8A6YK009Bk_digVUul-HA4Fpd5IjoBBGe3yzaQ2ZvzarvRuipvNEQCI0onpfuZZJQ0d8"
)


def test_the_signed_statement_example_of_the_spec_is_accepted():
    assert sha256(SPEC_JWS) == SPEC_STATEMENT["attachments"][0]["sha2"]
    assert list(sig_check(SPEC_STATEMENT, SPEC_JWS)) == [SPEC_STATEMENT["attachments"][0]["sha2"]]
    changed = copy.deepcopy(SPEC_STATEMENT)
    changed["actor"]["name"] = "Someone Else"
    with pytest.raises(AttachmentError, match="actor.name"):
        sig_check(changed, SPEC_JWS)


def test_the_signature_may_end_in_a_line_break():
    signed, token = signed_statement(statement())
    token += b"\r\n"
    signed["attachments"][-1].update(sha2=sha256(token), length=len(token))
    assert list(sig_check(signed, token)) == [sha256(token)]


def resigned(stmt, token):
    """stmt with its signature Attachment object pointing at this (other) token."""
    out = copy.deepcopy(stmt)
    out["attachments"][-1].update(sha2=sha256(token), length=len(token))
    return out


def test_non_rs_algorithms_are_rejected():
    stmt = statement()
    payload = statement_payload(stmt)
    tokens = {
        "HS256": sign_statement(stmt, b"a shared secret of thirty-two bytes!", alg="HS256"),
        "PS256": sign_statement(stmt, signer()[0], alg="PS256"),
        "ES256": sign_statement(stmt, ec.generate_private_key(ec.SECP256R1()), alg="ES256"),
        "none": compact({"alg": "none"}, payload),
        "None": compact({}, payload, b"sig"),
    }
    base, _ = signed_statement(stmt)
    for alg, token in tokens.items():
        with pytest.raises(AttachmentError, match=r"JWS algorithm must be RS256, RS384 or RS512, not "
                                                  + ("None" if alg == "None" else alg)):
            sig_check(resigned(base, token), token)


def test_a_tampered_signature_is_rejected_when_there_is_a_certificate():
    signed, token = signed_statement(statement())
    bad = tamper(token)
    with pytest.raises(AttachmentError, match="signature does not verify against the public key of the first "
                                              "certificate"):
        sig_check(resigned(signed, bad), bad)


def test_a_changed_payload_is_rejected_by_the_certificate():
    signed, token = signed_statement(statement())
    head, _, sig = token.split(b".")
    forged_stmt = statement(result={"success": True})
    forged = b".".join((head, compact({}, statement_payload(forged_stmt)).split(b".")[1], sig))
    with pytest.raises(AttachmentError, match="does not verify"):
        sig_check(resigned(with_attachments(forged_stmt, signed["attachments"][-1]), forged), forged)


def test_a_signature_by_another_key_than_the_certificate_s_is_rejected():
    other_key = make_key()
    signed, token = signed_statement(statement(), other_key, signer()[1])
    with pytest.raises(AttachmentError, match="does not verify"):
        sig_check(signed, token)


@pytest.mark.parametrize("x5c, message", [
    ([], "non-empty array"),
    ("MIIB", "non-empty array"),
    ([42], "non-empty array"),
    (["not base64 !"], r"x5c\[0\] is not a base64 DER X.509 certificate"),
    (["AAAA"], r"x5c\[0\] is not a base64 DER X.509 certificate"),
])
def test_a_bad_x5c_is_rejected(x5c, message):
    signed, token = signed_statement(statement(), cert=False, header={"x5c": x5c})
    with pytest.raises(AttachmentError, match=message):
        sig_check(signed, token)


def test_an_x5c_certificate_without_rsa_key_is_rejected():
    ec_key = ec.generate_private_key(ec.SECP256R1())
    signed, token = signed_statement(statement(), signer()[0], make_cert(ec_key, "ec"))
    with pytest.raises(AttachmentError, match="has no RSA key"):
        sig_check(signed, token)


def test_a_payload_that_differs_from_the_statement_is_rejected_and_the_difference_named():
    stmt = statement(id=new_id(), result={"score": {"raw": 7}})
    signed, token = signed_statement(stmt)
    sent = copy.deepcopy(signed)
    sent["result"]["score"]["raw"] = 8
    with pytest.raises(AttachmentError, match=r"statement\.attachments\[0\] \(signature\): the signed statement "
                                              r"\(the JWS payload\) does not match the statement sent: "
                                              r"result\.score\.raw: 7 in the signed statement, 8 in the one sent"):
        sig_check(sent, token)


@pytest.mark.parametrize("change, message", [
    (lambda s: s.update(id=new_id()), "^.*: id: "),
    (lambda s: s.pop("id"), "id is in the signed statement but not in the one sent"),
    (lambda s: s.update(timestamp="2026-01-01T10:00:00.001Z"), "timestamp: "),
    (lambda s: s.update(context={"registration": new_id()}), "context is in the statement sent but not"),
    (lambda s: s["verb"].update(id="http://adlnet.gov/expapi/verbs/failed"), "verb.id"),
    (lambda s: s["object"].update(id="https://kurs.helse.example.no/annet"), "object.id"),
    (lambda s: s["actor"]["account"].update(name="KARI"), "actor.account.name"),
    (lambda s: s["result"].update(success=1), "result.success: true in the signed statement, 1"),
    (lambda s: s["result"].update(duration="PT1.3S"), "result.duration"),
])
def test_payload_mismatches(change, message):
    stmt = statement(id=new_id(), timestamp="2026-01-01T10:00:00Z", result={"success": True, "duration": "PT1.25S"})
    signed, token = signed_statement(stmt)
    sent = copy.deepcopy(signed)
    change(sent)
    with pytest.raises(AttachmentError, match=message):
        sig_check(sent, token)


def test_differences_the_lrs_could_have_made_are_ignored():
    sid = new_id()
    members = [agent("a"), agent("b"), {"mbox": "mailto:c@example.no"}]
    stmt = statement(
        id=sid, timestamp="2026-01-01T12:00:00.123+01:00",
        actor={"objectType": "Group", "name": "Team", "member": members},
        result={"duration": "PT1.234567S"},
        context={"registration": new_id(), "instructor": {"mbox": "mailto:Lærer@Sykehus.Example.NO"},
                 "contextActivities": {"parent": {"id": "https://kurs.helse.example.no/",
                                                  "definition": {"name": {"nb-NO": "Kurs"}}}}})
    signed, token = signed_statement(stmt, header={})
    sent = copy.deepcopy(signed)
    sent["id"] = sid.upper()
    sent["timestamp"] = "2026-01-01T11:00:00.123456Z"  # the same moment
    sent["actor"]["member"] = list(reversed(members))
    sent["result"]["duration"] = "PT1.23S"
    sent["context"]["registration"] = sent["context"]["registration"].upper()
    sent["context"]["instructor"]["mbox"] = "mailto:Lærer@sykehus.example.no"
    sent["context"]["contextActivities"]["parent"] = [{"id": "https://kurs.helse.example.no/"}]
    sent["verb"]["display"] = {"nb-NO": "fullførte"}
    sent["object"]["definition"] = {"name": {"en-US": "Another name"}}
    sent.update(authority=agent("lrs"), stored="2026-01-02T00:00:00Z", version="1.0.0")
    assert list(sig_check(sent, token)) == [sha256(token)]


def test_properties_the_lrs_assigns_may_be_missing_from_the_payload():
    stmt = statement()
    signed, token = signed_statement(stmt)
    sent = {**copy.deepcopy(signed), "id": new_id(), "timestamp": "2026-01-01T12:00:00Z", "version": "2.0.0"}
    assert list(sig_check(sent, token)) == [sha256(token)]


def test_jwt_claims_in_the_payload_are_ignored():
    stmt = statement(id=new_id())
    payload = orjson.dumps({**orjson.loads(statement_payload(stmt)), "iat": 1767225600})
    signed, token = signed_statement(stmt, payload=payload)
    assert list(sig_check(signed, token)) == [sha256(token)]


def test_a_substatement_counts_when_comparing():
    sub = {"objectType": "SubStatement", "actor": agent("ola"), "verb": {"id": "http://example.com/verbs/planned"},
           "object": {"id": "http://example.com/activities/x", "definition": {"type": "http://example.com/t"}}}
    signed, token = signed_statement(statement(object=sub))
    sent = copy.deepcopy(signed)
    sent["object"]["object"]["definition"] = {}
    assert list(sig_check(sent, token)) == [sha256(token)]
    sent["object"]["verb"]["id"] = "http://example.com/verbs/did"
    with pytest.raises(AttachmentError, match="object.verb.id"):
        sig_check(sent, token)


@pytest.mark.parametrize("payload, message", [
    (lambda p: p.replace(b'"', b"'", 1), "the JWS payload is not valid JSON"),  # conformance "breakJson"
    (lambda p: b"[" + p + b"]", "the JWS payload is not a statement"),
    (lambda p: b"\xff\xfe", "not valid JSON"),
])
def test_a_payload_that_is_not_a_statement_is_rejected(payload, message):
    stmt = statement()
    signed, token = signed_statement(stmt, payload=payload(statement_payload(stmt)))
    with pytest.raises(AttachmentError, match=message):
        sig_check(signed, token)


@pytest.mark.parametrize("token, message", [
    (b"not a jws", "not a JWS in compact serialization"),
    (b"a.b.c.d", "not a JWS in compact serialization"),
    (b'{"payload": "e30", "protected": "e30", "signature": "AA"}', "must use the compact serialization"),
    (b"a!.b.c", "the JWS header is not base64url"),
    (b"e30.e30.c2ln", "the JWS algorithm must be"),
    (b"WzFd.e30.c2ln", "the JWS header is not a JSON object"),
    (b"e30.e30.c", "the JWS signature is not base64url"),
    ("ø.e30.c2ln".encode(), "not ASCII"),
])
def test_malformed_jws_is_rejected(token, message):
    signed, _ = signed_statement(statement())
    with pytest.raises(AttachmentError, match=message):
        sig_check(resigned(signed, token), token)


def test_critical_header_parameters_and_empty_signatures_are_rejected():
    stmt = statement()
    signed, _ = signed_statement(stmt)
    crit = compact({"alg": "RS256", "crit": ["exp"], "exp": 1}, statement_payload(stmt), b"signature")
    with pytest.raises(AttachmentError, match="critical header parameters"):
        sig_check(resigned(signed, crit), crit)
    empty = compact({"alg": "RS256"}, statement_payload(stmt))
    with pytest.raises(AttachmentError, match="empty signature"):
        sig_check(resigned(signed, empty), empty)


def test_a_signature_must_be_application_octet_stream():
    """Conformance XAPI-00115 'bad content type'."""
    signed, token = signed_statement(statement())
    sent = copy.deepcopy(signed)
    sent["attachments"][-1]["contentType"] = "text/plain; charset=ascii"
    with pytest.raises(AttachmentError, match="contentType must be application/octet-stream, not text/plain"):
        sig_check(sent, token, part_type="text/plain; charset=ascii")
    with pytest.raises(AttachmentError, match="attachment part 2 must have Content-Type application/octet-stream"):
        sig_check(signed, token, part_type="text/plain")


def test_a_signature_must_come_as_a_part():
    signed, token = signed_statement(statement())
    with pytest.raises(AttachmentError, match="no fileUrl and no attachment part"):
        check_attachments([signed], [])
    signed["attachments"][-1]["fileUrl"] = "https://signatures.example.no/1.jws"
    with pytest.raises(AttachmentError, match="the JWS must come as an attachment part"):
        check_attachments([signed], [])


def test_each_statement_of_a_batch_is_checked_against_its_own_signature():
    a, token_a = signed_statement(statement(id=new_id()))
    b, token_b = signed_statement(statement(id=new_id()))
    parts = [part(token_a, JWS_TYPE), part(token_b, JWS_TYPE)]
    assert set(check_attachments([a, b], parts)) == {sha256(token_a), sha256(token_b)}
    b_with_a_signature = {**copy.deepcopy(b), "attachments": a["attachments"]}
    with pytest.raises(AttachmentError, match=r"statement\[1\]\.attachments\[0\] \(signature\): .* id: "):
        check_attachments([a, b_with_a_signature], parts[:1])


def test_the_whole_way_from_a_client_body():
    stmt = with_attachments(statement(id=new_id()), attachment(b"%PDF-1.7 ...", "application/pdf"))
    signed, token = signed_statement(stmt)
    body, ctype = multipart_body(signed, [signature_part(token), ("application/pdf", b"%PDF-1.7 ...")])
    data, parts = parse_multipart(body, ctype)
    got = check_attachments([orjson.loads(data)], parts)
    assert got == {sha256(token): part(token, JWS_TYPE),
                   sha256(b"%PDF-1.7 ..."): part(b"%PDF-1.7 ...", "application/pdf")}
    assert signed["attachments"][-1]["usageType"] == SIGNATURE_USAGE
