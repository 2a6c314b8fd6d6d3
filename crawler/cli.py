"""`dcs`: the command line. It parses arguments and calls the library, nothing more."""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
from contextlib import contextmanager
from datetime import date
from pathlib import Path

from crawler import __version__
from crawler.errors import DcsError
from crawler.layout import Layout
from crawler.replay.zipnum import ZIPNUM_OVER
from crawler.replica.__main__ import add_arguments as add_replica_arguments
from crawler.replica.__main__ import number_in, port_number
from crawler.site import PROFILES


class Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (and exit status 2), not a usage dump."""

    def error(self, message: str):
        self.exit(2, f"dcs: error: {message} (see '{self.prog} --help')\n")


def positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def non_negative_int(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {value}")
    return value


def day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected YYYY-MM-DD, got {text!r}") from None


def add_out(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--out", type=Path, default=Path("archive"), metavar="DIR",
        help="the archive folder (default: ./archive)",
    )  # fmt: skip


def add_members(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--member", type=Path, action="append", default=[], metavar="DIR",
        help="read the archive folder DIR too, as one collection with --out (repeatable; "
        "remembered by --out: the folders of a cluster crawl's nodes)",
    )  # fmt: skip


def gather_members(args: argparse.Namespace) -> None:
    """A collection folder (--out) gathers its member folders before it is read."""
    from crawler.collection import gather

    gathered = gather(args.out, args.member)
    if gathered is not None and gathered.left_out:
        print(
            f"{gathered.left_out} text files left out: another member holds the same article",
            file=sys.stderr,
        )


def add_json(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print JSON lines")


def add_days(parser: argparse.ArgumentParser, what: str) -> None:
    for name, edge in (("--since", "from"), ("--until", "up to")):
        parser.add_argument(
            name,
            type=day,
            metavar="YYYY-MM-DD",
            help=f"only those {what} {edge} this day (Vietnam time)",
        )


def add_site_filter(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--site",
        choices=tuple(PROFILES),
        help="only texts of this site: main (the newspaper), documents, en, fr, cn",
    )


def add_color(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--color",
        choices=("auto", "always", "never"),
        default="auto",
        help="colour the output (default: at a terminal)",
    )


def add_crawl_options(parser: argparse.ArgumentParser) -> None:
    add_out(parser)
    parser.add_argument(
        "--base-url",
        metavar="URL",
        help="site or mirror to crawl (default: https://dangcongsan.vn)",
    )
    parser.add_argument(
        "--site",
        metavar="SITE",
        help="which sites: main (the newspaper, default), documents (tulieuvankien.), en, fr, "
        "cn (the editions), all, or several as main,en",
    )
    parser.add_argument(
        "--max-articles", type=positive_int, metavar="N", help="stop after N articles"
    )
    parser.add_argument(
        "--since",
        type=day,
        metavar="YYYY-MM-DD",
        help="backfill down to this day; stop paging lists older than it",
    )
    parser.add_argument(
        "--full", action="store_true", help="ignore earlier runs: fetch everything again"
    )
    parser.add_argument(
        "--no-requisites", action="store_true", help="do not archive images, CSS and JS of articles"
    )
    parser.add_argument(
        "-s",
        dest="settings",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="set a Scrapy setting (repeatable)",
    )
    parser.add_argument(
        "-v", "--verbose", action="store_true", help="log to the terminal instead of OUT/logs/"
    )
    cluster = parser.add_argument_group("a cluster crawl (several processes, one crawl)")
    cluster.add_argument(
        "--frontier", metavar="redis://HOST:PORT/DB",
        help="the frontier and duplicate filter all nodes share (needs --state)",
    )  # fmt: skip
    cluster.add_argument(
        "--state", metavar="postgresql://USER@HOST/DB",
        help="the state store all nodes share (default: OUT/state.sqlite3)",
    )  # fmt: skip
    cluster.add_argument(
        "--node", metavar="NAME", help="this node's name, in its WARC file names (host-pid)"
    )


def crawl_options(args: argparse.Namespace):
    from crawler.crawl import CrawlOptions

    return CrawlOptions(
        out_dir=args.out,
        base_url=args.base_url,
        site=args.site,
        max_articles=args.max_articles,
        since=args.since,
        full=args.full,
        requisites=not args.no_requisites,
        settings=args.settings,
        verbose=args.verbose,
        frontier=args.frontier,
        state=args.state,
        node=args.node,
    )


def cmd_crawl(args: argparse.Namespace) -> int:
    from crawler.crawl import run_crawl

    run_crawl(crawl_options(args))
    return 0


def cmd_schedule(args: argparse.Namespace) -> int:
    import logging

    from crawler.crawl import build_settings
    from crawler.schedule import crawl_arguments, crawl_command, run_schedule

    # Options every run would refuse are refused now, not once per run.
    options = crawl_options(build_parser().parse_args(["crawl", *crawl_arguments(args.crawl_argv)]))
    options.verbose = True  # no log file made for this check
    build_settings(options)

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    return run_schedule(
        crawl_command(args.crawl_argv), every=args.every, cron=args.cron, max_runs=args.max_runs
    )


def cmd_extract(args: argparse.Namespace) -> int:
    from crawler.extract.batch import reextract, write_report
    from crawler.lock import OutputLock

    layout = Layout.of(args.out)
    with OutputLock(args.out):  # it writes the text files a crawl writes
        summary = reextract(args.inputs, layout.text_dir, workers=args.workers)
        report = write_report(summary, layout.reports_dir)
        print(summary)
        print(f"Report: {report}")
        if layout.search_index.exists():  # keep dcs search in step with the texts
            print(update_search(args.out).line())
    return report_damaged(summary.damaged, "its whole records were extracted")


def cmd_index(args: argparse.Namespace) -> int:
    gather_members(args)
    from crawler.replay.index import build_index
    from crawler.replay.report import index_summary

    def progress(name: str) -> None:  # at a terminal only: scripts and cron get errors alone
        print(f"indexing {name}", file=sys.stderr, flush=True)

    result = build_index(args.out, on_file=progress if sys.stderr.isatty() else None)
    print(index_summary(result))
    status = report_damaged(result.problems, "its whole records are indexed")
    return max(status, index_search(args))


def update_search(out: Path, rebuild: bool = False):
    from crawler.research.index import update_index

    with folder_progress() as progress:
        return update_index(Layout.of(out), rebuild=rebuild, progress=progress)


def index_search(args: argparse.Namespace) -> int:
    if args.rebuild:
        from crawler.lock import OutputLock

        with OutputLock(args.out):  # no crawl writes the old index while the new one is made
            result = update_search(args.out, rebuild=True)
    else:
        result = update_search(args.out)
    print(result.line())
    for problem in result.problems:
        print(
            f"dcs: error: unreadable text file {problem}; left out of the search index",
            file=sys.stderr,
        )
    return 1 if result.problems else 0


@contextmanager
def folder_progress():
    """A progress bar of the text folders the search index reads, at a terminal only."""
    from tqdm import tqdm

    with tqdm(desc="search index", unit=" folders", disable=not sys.stderr.isatty(),
              file=sys.stderr) as bar:  # fmt: skip

        def progress(folder: str) -> None:
            bar.set_postfix_str(folder, refresh=False)
            bar.update()

        yield progress


def report_damaged(problems: list[str], consequence: str) -> int:
    """One `dcs: error:` line per damaged WARC file; exit status 1 if there was any."""
    from crawler.replay.report import damage_lines

    for line in damage_lines(problems, consequence):
        print(line, file=sys.stderr)
    return 1 if problems else 0


def cmd_replay(args: argparse.Namespace) -> int:
    gather_members(args)
    if args.replay_command == "serve":
        from crawler.replay.serve import serve

        problems = serve(args.out, host=args.host, port=args.port)
        return 1 if problems else 0
    from crawler.replay.show import find_captures, show

    if args.replay_command == "list":
        from crawler.replay.index import known_problems
        from crawler.replay.report import capture_lines

        captures = find_captures(args.out, args.target)
        if not captures:
            raise DcsError(f"no capture of {args.target} in {args.out}")
        print("\n".join(capture_lines(captures)))
        # The list may lack captures that lay in damaged bytes.
        return report_damaged(
            known_problems(args.out), "captures in its damaged bytes are not listed"
        )
    part = "html" if args.html else "headers" if args.headers else "text"
    sys.stdout.buffer.write(show(args.out, args.target, at=args.at, part=part))
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    gather_members(args)
    from crawler.replay.export import export_wacz
    from crawler.replay.report import export_summary

    def progress(name: str) -> None:  # at a terminal only, as `dcs index`
        print(f"packing {name}", file=sys.stderr, flush=True)

    result = export_wacz(
        args.out,
        args.wacz,
        since=args.since,
        zipnum_over=args.zipnum_over,
        on_file=progress if sys.stderr.isatty() else None,
    )
    print(export_summary(result))
    return report_damaged(result.problems, f"its whole records are in {result.path.name}")


def cmd_verify(args: argparse.Namespace) -> int:
    from contextlib import nullcontext

    from crawler.lock import OutputLock
    from crawler.verify import verify

    # Repairing writes what a crawl writes; a check alone reads (a crawl may be running).
    with OutputLock(args.out) if args.repair else nullcontext():
        if args.repair:
            from crawler.warc.writer import recover

            for line in recover(Layout.of(args.out).warc_dir):  # what a crash left open
                print(line)
        fixity = verify(args.out, progress=True)
        for finding in fixity.findings:
            print(finding)
        print(fixity.summary())
        if args.repair and not fixity.ok:
            from crawler.repair import repair

            for line in repair(fixity):
                print(line)
    return 0 if fixity.ok else 1


def cmd_export_dataset(args: argparse.Namespace) -> int:
    gather_members(args)
    from crawler.research.dataset import export_dataset

    with counter("rows") as tick:
        result = export_dataset(
            Layout.of(args.out),
            args.dataset,
            since=args.since,
            until=args.until,
            on_row=tick,
            site=args.site,
        )
    print(json.dumps(result.__dict__ | {"path": str(result.path)}) if args.json else result.line())
    return 0


def cmd_search(args: argparse.Namespace) -> int:
    gather_members(args)
    from crawler.research.report import COLOR_MATCH_MARKS, MATCH_MARKS, hit_lines
    from crawler.research.search import Filters, search

    color = use_color(args.color)
    with folder_progress() as progress:  # only when there is no index yet to search
        hits = search(
            Layout.of(args.out),
            " ".join(args.query),
            filters=Filters(
                args.since, args.until, args.category, args.author, tuple(args.tag), args.site
            ),
            limit=args.limit,
            order=args.sort,
            all_versions=args.all_versions,
            marks=COLOR_MATCH_MARKS if color else MATCH_MARKS,
            progress=progress,
        )
    for hit in hits:
        print(hit.as_json() if args.json else "\n".join(hit_lines(hit, color)))
    if not args.json:
        more = " (there may be more: --limit)" if len(hits) == args.limit else ""
        print(f"{len(hits)} hit{'' if len(hits) == 1 else 's'}{more}", file=sys.stderr)
    return 0


def cmd_changes(args: argparse.Namespace) -> int:
    from crawler.research.changes import KINDS, find_changes

    with counter("articles") as tick:
        changes = find_changes(
            Layout.of(args.out),
            since=args.since,
            until=args.until,
            kinds=tuple(args.kind) if args.kind else KINDS,
            on_article=tick,
            site=args.site,
        )
    for change in changes:
        print(change.as_json() if args.json else change.line())
    return 0


def cmd_translations(args: argparse.Namespace) -> int:
    from crawler.research.translations import translations_of

    found = translations_of(Layout.of(args.out), args.target)
    for translation in found:
        print(translation.as_json() if args.json else translation.line())
    if not args.json:
        print(f"{len(found)} translation{'' if len(found) == 1 else 's'}", file=sys.stderr)
    return 0


def cmd_diff(args: argparse.Namespace) -> int:
    from crawler.research.diff import article_diff
    from crawler.research.report import diff_json, diff_lines

    found = article_diff(Layout.of(args.out).text_dir, args.target, args.from_ts, args.to_ts)
    lines = diff_json(found) if args.json else diff_lines(found, use_color(args.color))
    print("\n".join(lines))
    return 0


def use_color(choice: str) -> bool:
    return choice == "always" or (choice == "auto" and sys.stdout.isatty())


@contextmanager
def counter(unit: str):
    """A tick function that shows a running count on stderr, at a terminal only."""
    from tqdm import tqdm

    with tqdm(unit=unit, disable=not sys.stderr.isatty(), file=sys.stderr) as bar:
        yield bar.update


def cmd_demo(args: argparse.Namespace) -> int:
    from crawler.demo import run_demo

    return run_demo(args.out, max_articles=args.max_articles)


def cmd_replica(args: argparse.Namespace) -> int:
    from crawler.replica.__main__ import serve_from_arguments

    return serve_from_arguments(args)


def build_parser() -> Parser:
    parser = Parser(prog="dcs", description="Archival crawler for dangcongsan.vn.")
    parser.add_argument("--version", action="version", version=f"dcs-archiver {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    commands.required = True

    crawl = commands.add_parser(
        "crawl", help="crawl the site into WARC files and text (incremental)"
    )
    add_crawl_options(crawl)
    crawl.set_defaults(handler=cmd_crawl)

    schedule = commands.add_parser("schedule", help="run incremental crawls forever on a schedule")
    when = schedule.add_mutually_exclusive_group(required=True)
    when.add_argument("--every", metavar="INTERVAL", help="e.g. 30m, 1h, 1d")
    when.add_argument("--cron", metavar="EXPR", help='a cron expression, e.g. "0 * * * *"')
    schedule.add_argument(
        "--max-runs", type=positive_int, metavar="N", help="stop after N runs (default: never)"
    )
    schedule.add_argument(
        "crawl_argv",
        nargs=argparse.REMAINDER,
        metavar="-- CRAWL OPTIONS",
        help="options passed to each `dcs crawl`",
    )
    schedule.set_defaults(handler=cmd_schedule)

    extract = commands.add_parser("extract", help="rebuild text files from archived WARCs, offline")
    extract.add_argument("inputs", nargs="+", type=Path, metavar="WARC_OR_DIR")
    add_out(extract)
    extract.add_argument(
        "--workers", type=number_in(1, 1024), metavar="N", help="processes (default: all cores)"
    )
    extract.set_defaults(handler=cmd_extract)

    index = commands.add_parser("index", help="build or update the CDXJ index and the search index")
    add_out(index)
    add_members(index)
    index.add_argument(
        "--rebuild", action="store_true", help="make the search index anew from the text files"
    )
    index.set_defaults(handler=cmd_index)

    search = commands.add_parser("search", help="full-text search of the archived articles")
    search.add_argument(
        "query", nargs="+", metavar="QUERY", help='words, "phrases", AND/OR/NOT, (groups), prefix*'
    )
    add_out(search)
    add_members(search)
    add_json(search)
    add_days(search, "published")
    add_site_filter(search)
    search.add_argument("--category", metavar="NAME", help="only this category (e.g. thoi-su)")
    search.add_argument("--author", metavar="NAME", help="only this author")
    search.add_argument(
        "--tag",
        action="append",
        default=[],
        metavar="TAG",
        help="only articles with this tag (repeatable: all of them)",
    )
    search.add_argument(
        "--limit", type=positive_int, default=20, metavar="N", help="at most N hits (default: 20)"
    )
    search.add_argument(
        "--sort",
        choices=("newest", "oldest", "relevance"),
        default="newest",
        help="order of the hits (default: newest first)",
    )
    search.add_argument(
        "--all-versions", action="store_true", help="search earlier texts of edited articles too"
    )
    add_color(search)
    search.set_defaults(handler=cmd_search)

    changes = commands.add_parser("changes", help="list the edits and takedowns the archive saw")
    add_out(changes)
    add_json(changes)
    add_days(changes, "seen")
    add_site_filter(changes)
    changes.add_argument(
        "--kind",
        action="append",
        choices=("edited", "removed", "restored"),
        help="only changes of this kind (repeatable)",
    )
    changes.set_defaults(handler=cmd_changes)

    translations = commands.add_parser(
        "translations", help="the editions' articles (en, fr, cn) that translate an article"
    )
    translations.add_argument("target", metavar="ID_OR_URL", help="the Vietnamese article")
    add_out(translations)
    add_json(translations)
    translations.set_defaults(handler=cmd_translations)

    diff = commands.add_parser("diff", help="what changed between two versions of an article")
    diff.add_argument("target", metavar="ID_OR_URL")
    add_out(diff)
    add_json(diff)
    diff.add_argument(
        "--from",
        dest="from_ts",
        metavar="TS",
        help="the version in force at YYYYmmddHHMMSS (default: the one before --to)",
    )
    diff.add_argument(
        "--to",
        dest="to_ts",
        metavar="TS",
        help="the version in force at YYYYmmddHHMMSS (default: the last)",
    )
    add_color(diff)
    diff.set_defaults(handler=cmd_diff)

    replay = commands.add_parser("replay", help="serve, list or show archived captures")
    replay_commands = replay.add_subparsers(
        dest="replay_command", metavar="ACTION", parser_class=Parser
    )
    replay_commands.required = True
    serve = replay_commands.add_parser("serve", help="serve the archive with pywb")
    add_out(serve)
    add_members(serve)
    serve.add_argument("--host", default="127.0.0.1", help="bind address (default: 127.0.0.1)")
    serve.add_argument("--port", type=port_number, default=8080)
    listing = replay_commands.add_parser("list", help="list the captures of a URL or article ID")
    add_out(listing)
    add_members(listing)
    listing.add_argument("target", metavar="URL_OR_ID")
    show = replay_commands.add_parser("show", help="print a capture: text, HTML or headers")
    add_out(show)
    add_members(show)
    show.add_argument("target", metavar="URL_OR_ID")
    show.add_argument("--at", metavar="TIMESTAMP", help="the capture closest to YYYYmmddHHMMSS")
    part = show.add_mutually_exclusive_group()
    part.add_argument("--text", action="store_true", help="the extracted text (default)")
    part.add_argument("--html", action="store_true", help="the archived HTML")
    part.add_argument("--headers", action="store_true", help="the archived HTTP headers")
    replay.set_defaults(handler=cmd_replay)

    export = commands.add_parser("export", help="export the archive (WACZ)")
    export_commands = export.add_subparsers(dest="format", metavar="FORMAT", parser_class=Parser)
    export_commands.required = True
    wacz = export_commands.add_parser("wacz", help="pack WARCs, index and pages into a WACZ")
    wacz.add_argument("wacz", type=Path, metavar="OUT.wacz")
    add_out(wacz)
    add_members(wacz)
    wacz.add_argument(
        "--since", type=day, metavar="YYYY-MM-DD", help="only captures since this day"
    )
    wacz.add_argument(
        "--zipnum-over",
        type=non_negative_int,
        default=ZIPNUM_OVER,
        metavar="LINES",
        help="write a plain index.cdx rather than ZipNum (index.cdx.gz + index.idx) when the "
        f"index has at most LINES lines (default: {ZIPNUM_OVER}: always ZipNum)",
    )
    export.set_defaults(handler=cmd_export)
    dataset = export_commands.add_parser(
        "dataset", help="one row per article text, as JSON lines, CSV or Parquet"
    )
    dataset.add_argument("dataset", type=Path, metavar="OUT.{jsonl,parquet,csv}")
    add_out(dataset)
    add_members(dataset)
    add_json(dataset)
    add_days(dataset, "published")
    add_site_filter(dataset)
    dataset.set_defaults(handler=cmd_export_dataset)

    verify = commands.add_parser(
        "verify", help="check every WARC record, text file and state row (fixity)"
    )
    add_out(verify)
    verify.add_argument(
        "--repair",
        action="store_true",
        help="quarantine damaged files, keep their whole records, re-queue lost captures",
    )
    verify.set_defaults(handler=cmd_verify)

    demo = commands.add_parser("demo", help="crawl the bundled replica of the site, offline")
    add_out(demo)
    demo.add_argument("--max-articles", type=positive_int, metavar="N")
    demo.set_defaults(handler=cmd_demo)

    replica = commands.add_parser("replica", help="serve the local replica of the site")
    add_replica_arguments(replica)
    replica.set_defaults(handler=cmd_replica)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.handler(args)
    except DcsError as exc:
        print(f"dcs: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # the file system said no: a full disk, permissions, a long name
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"dcs: error: {where}{exc.strerror or exc}", file=sys.stderr)
        return 2
    except sqlite3.Error as exc:
        print(f"dcs: error: the state store: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("dcs: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
