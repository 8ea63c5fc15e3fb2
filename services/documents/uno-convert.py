#!/usr/bin/python3
"""Warm DOCX -> PDF converter: one long-lived soffice driven over UNO.

Started by WarmConverter (services/documents/warm-converter.ts), one per pool slot. Needs Debian's
python3-uno, so run it with /usr/bin/python3 (a pyenv/venv python has no `uno`).

  uno-convert.py --soffice PATH --profile DIR --pipe NAME [--start-timeout S]

Starts soffice (headless, its own user profile, listening on a named pipe), connects,
then prints one JSON line: {"ready": true, "sofficePid": N}. After that it reads
requests, one JSON object a line, from stdin:

  {"id": 7, "input": "/tmp/.../in-7.docx", "output": "/tmp/.../out-7.pdf"}

and answers each with {"id": 7, "ok": true} or {"id": 7, "ok": false, "error": "..."}.
End of stdin (the parent closed it, or died) makes it quit soffice and exit, so a
crashed parent leaves no soffice behind. A conversion that hangs is the parent's to
handle: it kills this process's whole process group (soffice is in it).
"""
import argparse
import json
import os
import signal
import subprocess
import sys
import time

import uno
from com.sun.star.beans import PropertyValue
from com.sun.star.connection import NoConnectException


class StartTimeout(Exception):
    pass

# The PDF export options: keep the PNG seal lossless (LibreOffice otherwise re-encodes
# images as JPEG) and at full resolution.
PDF_FILTER_DATA = {"UseLosslessCompression": True, "ReduceImageResolution": False}


def props(**kw):
    return tuple(PropertyValue(Name=k, Value=v) for k, v in kw.items())


def reply(obj):
    sys.stdout.write(json.dumps(obj, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def start_soffice(args):
    profile_url = uno.systemPathToFileUrl(os.path.abspath(args.profile))
    # Same process group as this script: the parent can kill both with one signal.
    return subprocess.Popen(
        [
            args.soffice,
            "-env:UserInstallation=" + profile_url,
            "--headless",
            "--invisible",
            "--nologo",
            "--nodefault",
            "--norestore",
            "--nolockcheck",
            "--nofirststartwizard",
            "--accept=pipe,name=%s;urp;StarOffice.ComponentContext" % args.pipe,
        ],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=sys.stderr,
    )


def connect(args, proc):
    local = uno.getComponentContext()
    resolver = local.ServiceManager.createInstanceWithContext(
        "com.sun.star.bridge.UnoUrlResolver", local
    )
    deadline = time.monotonic() + args.start_timeout
    while True:
        try:
            ctx = resolver.resolve(
                "uno:pipe,name=%s;urp;StarOffice.ComponentContext" % args.pipe
            )
            return ctx.ServiceManager.createInstanceWithContext(
                "com.sun.star.frame.Desktop", ctx
            )
        except NoConnectException:
            if proc.poll() is not None:
                raise RuntimeError("soffice exited with code %s while starting" % proc.returncode)
            if time.monotonic() > deadline:
                raise StartTimeout("soffice did not accept a connection within %ss" % args.start_timeout)
            time.sleep(0.05)


def convert(desktop, src, dst):
    doc = desktop.loadComponentFromURL(
        uno.systemPathToFileUrl(src),
        "_blank",
        0,
        props(
            Hidden=True,
            ReadOnly=True,
            # Word 2007+ only: a file that is not a DOCX fails here instead of being
            # guessed at by type detection.
            FilterName="MS Word 2007 XML",
            MacroExecutionMode=0,  # NEVER_EXECUTE
            UpdateDocMode=0,  # NO_UPDATE: never fetch linked content
        ),
    )
    if doc is None:
        raise RuntimeError("LibreOffice could not load the document")
    try:
        filter_data = uno.Any(
            "[]com.sun.star.beans.PropertyValue", props(**PDF_FILTER_DATA)
        )
        store = (
            PropertyValue(Name="FilterName", Value="writer_pdf_Export"),
            PropertyValue(Name="FilterData", Value=filter_data),
        )
        # uno.invoke keeps the typed Any for FilterData; a plain call would lose it.
        uno.invoke(doc, "storeToURL", (uno.systemPathToFileUrl(dst), store))
    finally:
        doc.close(True)


def shutdown(desktop, proc):
    try:
        if desktop is not None:
            desktop.terminate()
    except Exception:
        pass  # the bridge dies with soffice; that is the point
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--soffice", default="/usr/bin/soffice")
    ap.add_argument("--profile", required=True)
    ap.add_argument("--pipe", required=True)
    ap.add_argument("--start-timeout", type=float, default=60.0)
    args = ap.parse_args()

    proc = start_soffice(args)
    desktop = None
    # SIGTERM from the parent: take soffice down with us.
    signal.signal(signal.SIGTERM, lambda *_: (proc.kill(), os._exit(143)))
    try:
        desktop = connect(args, proc)
        reply({"ready": True, "sofficePid": proc.pid})
        for line in sys.stdin:
            if not line.strip():
                continue
            req = json.loads(line)
            try:
                convert(desktop, req["input"], req["output"])
                reply({"id": req["id"], "ok": True})
            except Exception as e:  # answer and stay up: one bad file must not kill the slot
                msg = getattr(e, "Message", "") or str(e) or type(e).__name__
                reply({"id": req["id"], "ok": False, "error": msg})
                if proc.poll() is not None:
                    sys.stderr.write("soffice exited with code %s\n" % proc.returncode)
                    sys.exit(3)  # the parent starts a new slot
    except Exception as e:
        reply({"ready": False, "error": str(e), "timeout": isinstance(e, StartTimeout)})
        proc.kill()  # it never came up: nothing to shut down gracefully
    finally:
        shutdown(desktop, proc)


if __name__ == "__main__":
    main()
