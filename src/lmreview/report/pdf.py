"""PDF through WeasyPrint, from the same self-contained HTML: page numbers and the table of contents' page numbers
come from the print rules of the report's stylesheet (``counter(page)``, ``target-counter``).

WeasyPrint needs the Pango libraries of the system. Where they are missing, asking for a PDF fails with one message
saying what to install (never a traceback); the other formats do not need them.
"""

from __future__ import annotations

from typing import Any

from lmreview.errors import LmreviewError

DEBIAN_PACKAGES = "libpango-1.0-0 libpangoft2-1.0-0"


class PdfUnavailable(LmreviewError):
    status = 503


def _weasyprint() -> Any:
    try:
        import weasyprint
    except ImportError as exc:  # not installed (the package is a dependency of lmreview, so rare)
        raise PdfUnavailable(
            f"PDF needs WeasyPrint, which is not installed ({exc}); install it with `pip install weasyprint`, "
            "or choose the html or docx format"
        ) from None
    except OSError as exc:  # installed, but cannot load Pango (cffi's "cannot load library ...")
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise PdfUnavailable(
            f"PDF needs the Pango libraries, which WeasyPrint cannot load ({reason}); on Debian or Ubuntu install "
            f"them with `apt-get install {DEBIAN_PACKAGES}`, or choose the html or docx format"
        ) from None
    return weasyprint


def pdf_available() -> str | None:
    """None when PDFs can be made here, else the reason they cannot."""
    try:
        _weasyprint()
    except PdfUnavailable as exc:
        return exc.message
    return None


def _fetcher(weasyprint: Any) -> Any:
    """The HTML is self-contained: its images are ``data:`` URLs (the thumbnails of images received), read in place;
    nothing else (a link in a narrative, a file on the server) is ever fetched."""
    urls = getattr(weasyprint, "urls", None)
    if urls is not None and hasattr(urls, "URLFetcher"):  # WeasyPrint 66 and later
        return urls.URLFetcher(allowed_protocols={"data"})

    def fetch(url: str, *args: object, **kwargs: object) -> Any:
        if url.startswith("data:image/"):
            return weasyprint.default_url_fetcher(url)
        raise ValueError(f"lmreview does not fetch {url} into a PDF")

    return fetch


def render_pdf(html: str) -> bytes:
    """The PDF of a self-contained HTML document (the report or the brief)."""
    weasyprint = _weasyprint()
    document = weasyprint.HTML(string=html, url_fetcher=_fetcher(weasyprint), base_url=".")
    data: bytes = document.write_pdf()
    return data
