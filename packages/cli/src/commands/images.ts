/**
 * Commands on disk images of the host: mkfs, fsck, ls, cat, cp and stat. The definitions only;
 * the work is in actions/images.ts, loaded when a command runs.
 */
import { Option, type Command } from "commander";
import { FILESYSTEMS, intArg } from "./options.js";

const actions = () => import("../actions/images.js");

/** Registers mkfs, fsck, ls, cat, cp and stat. */
export function registerImages(program: Command): void {
  program.command("mkfs")
    .description("create a disk image file holding an empty filesystem")
    .argument("<image>", "image file to create")
    .addOption(new Option("--fs <type>", "filesystem to make").choices(FILESYSTEMS).default("simple"))
    .option("-s, --size <size>", "size of the image", "64MiB")
    .option("-f, --force", "overwrite an existing file")
    .option("--inodes <n>", "number of inodes (default: one per 4 blocks)", intArg)
    .option("--segment-blocks <n>", "fs-log: blocks per segment (8…4096)", intArg)
    .option("--json", "print what was made as JSON")
    .action(async (image: string, o) => (await actions()).mkfsCommand(image, o));

  program.command("fsck")
    .description("check a disk image (exit 0 clean, 1 problems repaired, 4 problems left)")
    .argument("<image>", "image file")
    .option("-r, --repair", "repair what can be repaired safely (otherwise the image is never written)")
    .option("--json", "print the report as JSON")
    .action(async (image: string, o) => (await actions()).fsckCommand(image, o));

  program.command("ls")
    .description("list a directory of a disk image")
    .argument("<image>", "image file")
    .argument("[path]", "directory or file in the image", "/")
    .option("-l, --long", "long format: mode, links, owner, size, time")
    .option("-R, --recursive", "list subdirectories too")
    .option("--json", "print the entries as JSON")
    .action(async (image: string, path: string, o) => (await actions()).lsCommand(image, path, o));

  program.command("cat")
    .description("print a file of a disk image")
    .argument("<image>", "image file")
    .argument("<path>", "file in the image")
    .action(async (image: string, path: string) => (await actions()).catCommand(image, path));

  program.command("cp")
    .description("copy files into, out of or within a disk image: IMAGE:/path names a file in an image")
    .argument("<source>", "host path or IMAGE:/path")
    .argument("<dest>", "host path or IMAGE:/path")
    .option("-r, --recursive", "copy directories")
    .option("-v, --verbose", "name each file copied")
    .addHelpText("after", "\nExamples:\n  folio cp notes.txt disk.img:/notes.txt\n  folio cp -r disk.img:/etc ./etc-copy\n  folio cp disk.img:/a disk.img:/b")
    .action(async (source: string, dest: string, o: { recursive?: boolean; verbose?: boolean }) =>
      (await actions()).copyCommand(source, dest, o.recursive === true, o.verbose === true));

  program.command("stat")
    .description("print the attributes of a file of a disk image, like stat(1)")
    .argument("<image>", "image file")
    .argument("<path>", "file in the image")
    .option("--json", "print the attributes as JSON")
    .action(async (image: string, path: string, o) => (await actions()).statCommand(image, path, o));
}
