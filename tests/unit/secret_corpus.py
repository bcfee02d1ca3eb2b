"""A corpus of secrets and lookalikes, one line each: the kinds of detect-secrets' plugins and of
its own test cases (keyword assignments in every form its tests use, high-entropy strings, each
provider's token format), with values made up here — none is a real credential.

``POSITIVES`` are (id, line, the kind gitdocket reports); ``NEGATIVES`` are (id, line) that are
not secrets (placeholders, references, digests, lookalike words). ``tests/unit/test_secrets.py``
holds gitdocket's scanner to every row; ``bench/secret_parity.py`` runs detect-secrets over the
same rows where it is installed, for the comparison ADR 0016 reports.
"""

from __future__ import annotations

import base64
import hashlib
import json

__all__ = ["NEGATIVES", "POSITIVES", "made_up"]

_ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
_UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
_HEX = "0123456789abcdef"


def made_up(alphabet: str, length: int, seed: str) -> str:
    """``length`` characters of ``alphabet``, deterministic in ``seed`` (random-looking)."""
    out, counter = [], 0
    while len(out) < length:
        block = hashlib.sha256(f"{seed}:{counter}".encode()).digest()
        out.extend(alphabet[b % len(alphabet)] for b in block)
        counter += 1
    return "".join(out[:length])


def _b64url(data: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


_JWT = ".".join(
    (
        _b64url({"alg": "HS256", "typ": "JWT"}),
        _b64url({"sub": "1234567890", "iat": 1516239022}),
        made_up(_ALNUM, 43, "sig"),
    )
)
_PEM_BODY = made_up(_ALNUM, 64, "pem")
_PASSWORD = "Tr0ub4dor&3-" + made_up(_ALNUM, 6, "pw")

POSITIVES: list[tuple[str, str, str]] = [
    ("pem-rsa", f"-----BEGIN RSA PRIVATE KEY-----\n{_PEM_BODY}", "private key"),
    ("pem-openssh", "-----BEGIN OPENSSH PRIVATE KEY-----", "private key"),
    ("pem-ec", "-----BEGIN EC PRIVATE KEY-----", "private key"),
    ("pem-pkcs8", "-----BEGIN PRIVATE KEY-----", "private key"),
    ("pem-encrypted", "-----BEGIN ENCRYPTED PRIVATE KEY-----", "private key"),
    ("pem-pgp", "-----BEGIN PGP PRIVATE KEY BLOCK-----", "private key"),
    (
        "pem-ssh2",
        "---- BEGIN SSH2 ENCRYPTED PRIVATE KEY ----".replace("---- ", "-----").replace(" ----", "-----"),
        "private key",
    ),
    ("putty", "PuTTY-User-Key-File-2: ssh-rsa", "private key"),
    ("aws-key-id", "aws_access_key_id = AKIA" + made_up(_UPPER, 16, "aws"), "AWS access key id"),
    ("aws-session-key-id", "ASIA" + made_up(_UPPER, 16, "asia"), "AWS access key id"),
    ("aws-secret", "aws_secret_access_key = " + made_up(_ALNUM + "/+", 40, "awss"), "AWS secret access key"),
    (
        "azure-storage",
        "DefaultEndpointsProtocol=https;AccountName=acme;AccountKey=" + made_up(_ALNUM + "+/", 86, "az") + "==",
        "Azure storage key",
    ),
    ("github-classic", "ghp_" + made_up(_ALNUM, 36, "gh"), "GitHub token"),
    ("github-oauth", "gho_" + made_up(_ALNUM, 36, "gho"), "GitHub token"),
    ("github-fine-grained", "github_pat_" + made_up(_ALNUM + "_", 82, "ghpat"), "GitHub token"),
    ("gitlab-pat", "glpat-" + made_up(_ALNUM, 20, "gl"), "GitLab token"),
    ("gitlab-runner", "glrt-" + made_up(_ALNUM, 20, "glrt"), "GitLab token"),
    ("slack-bot", "xoxb-" + made_up("0123456789", 12, "sl") + "-" + made_up(_ALNUM, 24, "sl2"), "Slack token"),
    (
        "slack-webhook",
        "https://hooks.slack.com/services/T"
        + made_up(_UPPER, 8, "t")
        + "/B"
        + made_up(_UPPER, 8, "b")
        + "/"
        + made_up(_ALNUM, 24, "w"),
        "Slack webhook",
    ),
    ("google-api", "AIza" + made_up(_ALNUM + "_-", 35, "goog"), "Google API key"),
    ("anthropic", "sk-ant-api03-" + made_up(_ALNUM, 80, "ant"), "Anthropic API key"),
    ("openai-legacy", "sk-" + made_up(_ALNUM, 20, "oa1") + "T3BlbkFJ" + made_up(_ALNUM, 20, "oa2"), "OpenAI API key"),
    ("openai-project", "sk-proj-" + made_up(_ALNUM, 48, "oap"), "OpenAI API key"),
    ("stripe-secret", "sk_live_" + made_up(_ALNUM, 24, "st"), "Stripe secret key"),
    ("stripe-restricted", "rk_live_" + made_up(_ALNUM, 24, "rk"), "Stripe secret key"),
    ("twilio-account", "AC" + made_up(_HEX, 32, "tw"), "Twilio key"),
    ("twilio-api-key", "SK" + made_up(_HEX, 32, "tw2"), "Twilio key"),
    ("sendgrid", "SG." + made_up(_ALNUM, 22, "sg") + "." + made_up(_ALNUM, 43, "sg2"), "SendGrid key"),
    ("npm-token", "npm_" + made_up(_ALNUM, 36, "npm"), "npm token"),
    (
        "npmrc",
        "//registry.npmjs.org/:_authToken=" + made_up(_HEX, 8, "n1") + "-" + made_up(_HEX, 27, "n2"),
        "npm token",
    ),
    ("pypi", "pypi-AgEIcHlwaS5vcmc" + made_up(_ALNUM, 70, "pypi"), "PyPI token"),
    ("square", "sq0csp-" + made_up(_ALNUM, 43, "sq"), "Square token"),
    ("artifactory", "artifactory_api = AKC" + made_up(_ALNUM, 68, "af"), "Artifactory token"),
    ("vault", "hvs." + made_up(_ALNUM, 90, "vault"), "Vault token"),
    ("grafana", "glsa_" + made_up(_ALNUM, 32, "gf") + "_" + made_up(_HEX, 8, "gf2"), "Grafana token"),
    ("aiven", "AVNS_" + made_up(_ALNUM, 24, "aiven"), "Aiven token"),
    (
        "discord",
        "M" + made_up(_ALNUM, 23, "d1") + "." + made_up(_ALNUM, 6, "d2") + "." + made_up(_ALNUM, 27, "d3"),
        "Discord bot token",
    ),
    ("telegram", "bot " + made_up("123456789", 9, "tg") + ":" + made_up(_ALNUM, 35, "tg2"), "Telegram bot token"),
    ("mailchimp", made_up(_HEX, 32, "mc") + "-us12", "Mailchimp key"),
    ("jwt", "token=" + _JWT, "JSON Web Token"),
    ("jwt-bare", _JWT, "JSON Web Token"),
    ("authorization-bearer-jwt", f"Authorization: Bearer {_JWT}", "JSON Web Token"),
    ("authorization-bearer", "Authorization: Bearer " + made_up(_ALNUM, 40, "bearer"), "authorization header"),
    (
        "authorization-basic",
        "Authorization: Basic " + base64.b64encode(b"admin:" + _PASSWORD.encode()).decode(),
        "authorization header",
    ),
    ("bearer-in-prose", "curl -H 'bearer " + made_up(_ALNUM, 32, "curl") + "'", "bearer token"),
    ("url-credentials", f"postgres://admin:{_PASSWORD}@db.internal:5432/app", "credentials in a URL"),
    ("password-equals", f"password={_PASSWORD}", "password or secret"),
    ("password-colon", f"password: {_PASSWORD}", "password or secret"),
    ("password-quoted", f'db_password = "{_PASSWORD}"', "password or secret"),
    ("password-colon-equals", f'apikey := "{_PASSWORD}"', "password or secret"),
    ("password-json-key", f'"theapikey": "{_PASSWORD}"', "password or secret"),
    ("password-dict-key", f'some_dict["secret"] = "{_PASSWORD}"', "password or secret"),
    ("password-objc", f'apikey = @"{_PASSWORD}"', "password or secret"),
    ("password-quote-semicolon", f'private_key "{_PASSWORD}";', "password or secret"),
    ("password-fat-arrow", f"'client_secret' => '{_PASSWORD}'", "password or secret"),
    ("passwd-env", f"PGPASSWORD={_PASSWORD}", "password or secret"),
    ("token-env", f"SERVICE_TOKEN={_PASSWORD}", "password or secret"),
    ("high-entropy-base64", 'signing_seed = "' + made_up(_ALNUM + "+/", 40, "b64") + '"', "high-entropy string"),
    ("high-entropy-single-quoted", "cfg('" + made_up(_ALNUM, 40, "b64c") + "')", "high-entropy string"),
]
"""(id, line, kind gitdocket reports)."""

NEGATIVES: list[tuple[str, str]] = [
    ("prose", "rolled back: the canary's error rate doubled after the deploy"),
    ("prose-password-word", "password: reset by support, see INC-2041"),
    ("prose-token-word", "the token is valid until Friday"),
    ("git-commit", "reverts 3f2a9c1d0e8b7a6c5d4e3f2a1b0c9d8e7f6a5b4c"),
    ("sha256-digest", '"content_hash": "sha256:' + made_up(_HEX, 64, "digest") + '"'),
    ("git-tree-quoted", '"method_tree": "' + made_up(_HEX, 40, "tree") + '"'),
    ("uuid", "request 123e4567-e89b-12d3-a456-426614174000 failed"),
    ("url-without-credentials", "https://example.com/docs/getting-started?lang=en"),
    ("url-with-user-only", "ssh://git@github.com/acme/registry.git"),
    ("placeholder-env", "password: ${DB_PASSWORD}"),
    ("placeholder-template", "api_key: {{ secrets.API_KEY }}"),
    ("placeholder-angle", "token = <your token here>"),
    ("placeholder-stars", 'password = "********"'),
    ("placeholder-fake", 'my_password = "fakesecret"'),
    ("placeholder-example", 'api_key = "example-key-123"'),
    ("empty-quotes", 'my_password = ""'),
    ("boolean", "my_password = True"),
    ("call", "password = get_password(user)"),
    ("reference", "apiKey: this.apiKey,"),
    ("subscript", "my_password = request.json_body['hey']"),
    ("keyword-argument", "login(username=username, password=password)"),
    ("public-key", "-----BEGIN PUBLIC KEY-----"),
    ("ssh-signature", "-----BEGIN SSH SIGNATURE-----"),
    ("ssh-public-key-line", "alice ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB" + made_up(_ALNUM, 20, "pub")),
    ("lookalike-words", "sk-learn is a library; task-ant-farm; AKIA-not-a-key"),
    ("short-aws-prefix", "AKIA1234"),
    ("base64-low-entropy", '"' + "QUFB" * 10 + '"'),
    ("semver-and-dates", "support-triage 1.2.3 frozen at 2026-01-01T00:00:00Z"),
]
"""(id, line) that are not secrets."""
