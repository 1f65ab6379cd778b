//! The steps of the quickstart's life, in order, and the helpers they share (a round,
//! the online signer, the server, the summary).

use super::*;

impl Quickstart {
    /// The whole life, step by step; each step's commands are printed as they run.
    pub(super) fn life(&mut self) -> Result<()> {
        say!("trustroot quickstart: the whole life of a TUF trust root, offline, in");
        say!("  {}", self.dir.display());
        say!("Each step runs the `$ trustroot ...` command it shows, in that directory: type the same");
        say!("commands there to do it by hand.");

        self.set_up_keys()?;
        let target = self.add_target()?;
        let first = self.round(
            "First signing round: stage root v1 and targets v1, and write the signing request",
            "Each keyholder signs the request file with their key (2 of 3: carol does not)",
            &["alice", "bob"],
            None,
        )?;
        self.expect_version(&format!("{PUBLISHED}/1.root.json"), 1)?;
        self.expect_version(&format!("{PUBLISHED}/timestamp.json"), 1)?;

        let server = self.mirror_and_serve()?;
        self.first_client(&server, &target)?;
        self.online_refresh(&server)?;
        let second = self.rotate_root()?;
        self.follow_rotation(&server)?;
        self.status_page()?;

        self.begin("Stop the server");
        self.note(&format!(
            "(Ctrl-C when you run `trustroot mirror serve` yourself.) It served {}.",
            server.url
        ));
        drop(server);
        say!("   stopped; its access log is mirror-access.log");
        say!();
        say!("Rounds {first} and {second} are in {REPO}/ceremonies/.");
        Ok(())
    }

    /// A signing repository, the keys, and the policy that names them.
    fn set_up_keys(&mut self) -> Result<()> {
        self.begin("Create a signing repository (policy, keys/, targets/, metadata/, ceremonies/)");
        self.trustroot(&["init", REPO])?;

        self.begin("Generate keys: three root and targets keyholders, and the online key");
        self.note("Each keyholder generates their key on their own machine. These keys are NOT");
        self.note("encrypted, for this rehearsal only: real keys are made with --encrypt and never");
        self.note("leave their holder. private-keys/ sits outside the signing repository.");
        self.mkdir(&["private-keys".to_string()])?;
        for holder in HOLDERS {
            self.trustroot(&["key", "generate", "--type", "ecdsa-p256", "--out", &key(holder)])?;
        }
        self.trustroot(&["key", "generate", "--type", "ed25519", "--out", &key("online")])?;

        self.begin("Register the public keys: root and targets 2-of-3, snapshot and timestamp online");
        for holder in HOLDERS {
            for role in ["root", "targets"] {
                self.trustroot(&[
                    "key",
                    "add",
                    holder,
                    "--role",
                    role,
                    "--holder",
                    &format!("@{holder}"),
                    &public(holder),
                    "--repo",
                    REPO,
                ])?;
            }
        }
        self.trustroot(&["key", "threshold", "root", "2", "--repo", REPO])?;
        self.trustroot(&["key", "threshold", "targets", "2", "--repo", REPO])?;
        self.trustroot(&[
            "key",
            "add",
            "online",
            "--role",
            "online",
            &public("online"),
            "--repo",
            REPO,
        ])?;
        self.point_online_signer()?;
        Ok(())
    }

    /// A Sigstore trusted_root.json under targets/; returns its path.
    fn add_target(&mut self) -> Result<String> {
        self.begin("Put a file to publish under targets/: a Sigstore trusted_root.json");
        self.note("With one Rekor log whose key is generated here (a real one lists Sigstore's");
        self.note("logs and certificate authorities; see docs/operator-sigstore-payloads.md).");
        let target = format!("{REPO}/targets/{TARGET}");
        self.trustroot(&["sigstore", "trusted-root", "new", &target])?;
        self.trustroot(&["key", "generate", "--type", "ecdsa-p256", "--out", &key("rekor")])?;
        let start = chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string();
        self.trustroot(&[
            "sigstore",
            "trusted-root",
            "add-tlog",
            "--key",
            &public("rekor"),
            "--url",
            "https://rekor.example.internal",
            "--start",
            &start,
            &target,
        ])?;
        Ok(target)
    }

    /// The published repository mirrored, and the mirror served.
    fn mirror_and_serve(&mut self) -> Result<Server> {
        self.begin("Mirror the published repository, verifying it as a client would");
        self.note("A site's mirror pulls from the repository's URL; here it is a local file:// URL.");
        let from = url::Url::from_directory_path(self.path(PUBLISHED))
            .map_err(|()| self.fail(format!("{} is not an absolute path", self.path(PUBLISHED).display())))?;
        self.trustroot(&[
            "mirror",
            "sync",
            MIRROR,
            "--from",
            from.as_str(),
            "--root",
            &format!("{PUBLISHED}/1.root.json"),
        ])?;

        self.begin("Serve the mirror over HTTP on 127.0.0.1 (a free port)");
        self.serve()
    }

    /// A client trusting root v1 downloads the target from the mirror.
    fn first_client(&mut self, server: &Server, target: &str) -> Result<()> {
        let targets_url = format!("{}targets/", server.url);
        self.begin("A client trusts root v1 and updates from the mirror");
        self.note("A client gets its first root out of band (shipped with it, checked by hash).");
        self.mkdir(&["client/metadata".to_string(), "client/targets".to_string()])?;
        self.trustroot(&[
            "client",
            "--metadata-dir",
            "client/metadata",
            "init",
            &format!("{PUBLISHED}/1.root.json"),
        ])?;
        self.trustroot(&[
            "client",
            "--metadata-dir",
            "client/metadata",
            "--metadata-url",
            &server.url,
            "--target-base-url",
            &targets_url,
            "--target-dir",
            "client/targets",
            "--target-name",
            TARGET,
            "download",
        ])?;
        self.same_bytes(&format!("client/targets/{TARGET}"), target)?;
        Ok(())
    }

    /// The online key re-signs the timestamp; the mirror and the client follow.
    fn online_refresh(&mut self, server: &Server) -> Result<()> {
        self.begin("The online key re-signs the timestamp (cron does this daily), the mirror and client follow");
        self.note("--force: the new timestamp is not yet due for re-signing.");
        let before = self.version(&format!("{PUBLISHED}/timestamp.json"))?;
        self.trustroot(&["online", "refresh", "--repo", REPO, "--force"])?;
        self.expect_version(&format!("{PUBLISHED}/timestamp.json"), before + 1)?;
        self.trustroot(&["mirror", "sync", MIRROR])?;
        self.trustroot(&[
            "client",
            "--metadata-dir",
            "client/metadata",
            "--metadata-url",
            &server.url,
            "refresh",
        ])?;
        self.expect_version("client/metadata/timestamp.json", before + 1)?;
        Ok(())
    }

    /// dave joins, carol leaves: root v2, from a second round; returns its id.
    fn rotate_root(&mut self) -> Result<String> {
        self.begin("Rotate root: dave joins, carol leaves");
        self.note("A new root must be signed by 2 of the keys of root v1 and 2 of its own keys.");
        self.trustroot(&["key", "generate", "--type", "ecdsa-p256", "--out", &key(NEWCOMER)])?;
        self.trustroot(&[
            "key",
            "add",
            NEWCOMER,
            "--role",
            "root",
            "--holder",
            &format!("@{NEWCOMER}"),
            &public(NEWCOMER),
            "--repo",
            REPO,
        ])?;
        self.trustroot(&["key", "remove", "carol", "--role", "root", "--repo", REPO])?;
        let second = self.round(
            "Second signing round: stage root v2 and write its signing request",
            "alice, bob and dave sign root v2 from the request file",
            &["alice", "bob", NEWCOMER],
            Some(&format!("{PUBLISHED}/1.root.json")),
        )?;
        self.expect_version(&format!("{PUBLISHED}/2.root.json"), 2)?;
        Ok(second)
    }

    /// The mirror and the client follow the rotation to root v2.
    fn follow_rotation(&mut self, server: &Server) -> Result<()> {
        self.begin("The mirror and the client follow the rotation to root v2");
        self.trustroot(&["mirror", "sync", MIRROR])?;
        self.trustroot(&[
            "client",
            "--metadata-dir",
            "client/metadata",
            "--metadata-url",
            &server.url,
            "refresh",
        ])?;
        self.expect_version("client/metadata/root.json", 2)?;
        self.note("The client now trusts root v2 (client/metadata/root.json), signed by alice, bob and dave.");
        Ok(())
    }

    /// The status page: the whole repository in one file a browser opens offline.
    fn status_page(&mut self) -> Result<()> {
        self.begin("The status page: every role, keyholder and round on one page");
        self.trustroot(&["ceremony", "status", "--repo", REPO, "--html", STATUS_PAGE])?;
        let page = self.dir.join(STATUS_PAGE);
        self.note(&format!(
            "Open file://{} in a browser: each role's expiry against its signing period, the keyholders, and both rounds, who signed when.",
            page.display()
        ));
        Ok(())
    }

    /// `[online] signer` to the online key's file, outside the repository.
    fn point_online_signer(&mut self) -> Result<()> {
        let policy = self.path(&format!("{REPO}/trustroot.toml"));
        let line = format!("# edit {REPO}/trustroot.toml, section [online]:  {ONLINE_SIGNER}");
        say!("   {line}");
        self.log(&format!("{line}\n\n"));
        let text = std::fs::read_to_string(&policy).map_err(|e| self.fail(format!("{}: {e}", policy.display())))?;
        if text.matches(TEMPLATE_SIGNER).count() != 1 {
            return Err(self.fail(format!(
                "{} does not hold the line `{TEMPLATE_SIGNER}` that `trustroot init` writes",
                policy.display()
            )));
        }
        let text = text.replacen(TEMPLATE_SIGNER, ONLINE_SIGNER, 1);
        std::fs::write(&policy, text).map_err(|e| self.fail(format!("{}: {e}", policy.display())))
    }

    /// One signing round: start, request, each signer signs the request file on their own,
    /// the signatures come back, status, publish. Returns the round's id.
    /// A signing round. `root`: the published root the keyholders check the request
    /// against (`ceremony sign --root`); `None` for the first round, which has none.
    fn round(&mut self, title: &str, sign_title: &str, signers: &[&str], root: Option<&str>) -> Result<String> {
        self.begin(title);
        let out = self.trustroot(&["ceremony", "start", "--repo", REPO])?;
        let id = out
            .lines()
            .find_map(|l| l.strip_prefix("Started round "))
            .and_then(|rest| rest.split_whitespace().next())
            .map(str::to_string)
            .ok_or_else(|| self.fail("`ceremony start` did not say which round it started"))?;
        let request = format!("requests/{id}.json");
        let mut dirs = vec!["requests".to_string()];
        dirs.extend(signers.iter().map(|s| format!("signatures/{id}/{s}")));
        self.mkdir(&dirs)?;
        self.trustroot(&["ceremony", "request", "--out", &request, "--repo", REPO])?;

        self.begin(sign_title);
        self.note("On their own (air-gapped) machine, with only the request and their key. They");
        self.note("compare the request digest with the one the coordinator read out, read the");
        self.note("changes, and type yes (--yes here).");
        match root {
            Some(root) => {
                self.note("With --root they check the request against the published root they hold: the");
                self.note("changes shown are then against what is really published, not the request's claim.");
                self.note(&format!(
                    "(Here that root is {root}; a keyholder keeps their own copy.)"
                ));
            }
            None => self.note("Root v1 of a new repository follows nothing published: there is no --root to give."),
        }
        for (i, signer) in signers.iter().enumerate() {
            let (key, out_dir) = (key(signer), format!("signatures/{id}/{signer}"));
            let mut args = vec![
                "ceremony",
                "sign",
                "--request",
                &request,
                "--key",
                &key,
                "--out-dir",
                &out_dir,
            ];
            if let Some(root) = root {
                args.extend(["--root", root]);
            }
            args.push("--yes");
            let view = if i == 0 { View::SignSummary } else { View::SignResult };
            self.trustroot_as(&format!("trustroot {}", args.join(" ")), &args, view)?;
        }

        self.begin("Collect the signatures, check the thresholds, publish");
        let mut files = Vec::new();
        for signer in signers {
            let dir = self.path(&format!("signatures/{id}/{signer}"));
            let mut names: Vec<String> = std::fs::read_dir(&dir)
                .map_err(|e| self.fail(format!("{}: {e}", dir.display())))?
                .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
                .filter(|name| name.ends_with(".json"))
                .collect();
            names.sort();
            if names.is_empty() {
                return Err(self.fail(format!("{signer} wrote no signature file in {}", dir.display())));
            }
            files.extend(names.into_iter().map(|n| format!("signatures/{id}/{signer}/{n}")));
        }
        let mut args = vec!["ceremony", "add-signature", "--repo", REPO];
        args.extend(files.iter().map(String::as_str));
        self.trustroot_as(
            &format!("trustroot ceremony add-signature --repo {REPO} signatures/{id}/*/*.json"),
            &args,
            View::All,
        )?;
        self.trustroot(&["ceremony", "status", "--repo", REPO])?;
        self.trustroot(&["ceremony", "publish", "--repo", REPO])?;
        Ok(id)
    }

    fn same_bytes(&self, got: &str, want: &str) -> Result<()> {
        let read = |rel: &str| std::fs::read(self.path(rel)).map_err(|e| self.fail(format!("{rel}: {e}")));
        if read(got)? != read(want)? {
            return Err(self.fail(format!("{got} differs from {want}")));
        }
        say!("   {got} is byte for byte {want}");
        Ok(())
    }

    /// Starts `mirror serve` on an ephemeral port of 127.0.0.1 and reads the URL it prints.
    fn serve(&mut self) -> Result<Server> {
        let args = [
            "mirror",
            "serve",
            MIRROR,
            "--listen",
            "127.0.0.1:0",
            "--access-log",
            "mirror-access.log",
        ];
        let line = format!("trustroot {} &", args.join(" "));
        say!("   $ {line}");
        self.log(&format!("$ {line}\n"));
        let mut child = Command::new(&self.exe)
            .args(args)
            .current_dir(&self.dir)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| self.fail(format!("`trustroot mirror serve` could not be started: {e}")))?;
        let Some(stdout) = child.stdout.take() else {
            let _ = child.kill();
            let _ = child.wait();
            return Err(self.fail("`trustroot mirror serve`: no standard output to read its address from"));
        };
        let (send, receive) = mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = send.send(line);
        });
        // From here the server is stopped whatever happens.
        let mut server = Server {
            child,
            url: String::new(),
        };
        // No line within SERVER_START reads as no address: the refusal below says so.
        let line = receive.recv_timeout(SERVER_START).unwrap_or_default();
        let url = line
            .trim_end()
            .rsplit_once(" on ")
            .map(|(_, url)| url.to_string())
            .filter(|url| url.starts_with("http://127.0.0.1:") && url.ends_with('/'));
        let Some(url) = url else {
            let _ = server.child.kill();
            let _ = server.child.wait();
            let mut stderr = String::new();
            if let Some(mut pipe) = server.child.stderr.take() {
                let _ = pipe.read_to_string(&mut stderr);
            }
            return Err(self.fail(format!(
                "`trustroot mirror serve` did not start serving on 127.0.0.1: {}",
                if stderr.trim().is_empty() {
                    format!("it printed {:?}", line.trim_end())
                } else {
                    stderr.trim().to_string()
                }
            )));
        };
        indent(&line);
        self.log(&format!("{line}\n"));
        server.url = url;
        Ok(server)
    }

    pub(super) fn summary(&self, elapsed: Duration) {
        say!();
        say!(
            "Done in {:.1}s. {} is yours to explore:",
            elapsed.as_secs_f64(),
            self.dir.display()
        );
        let rows = [
            (
                "signing-repo/",
                "the signing repository: trustroot.toml, keys/ (public), targets/, metadata/",
            ),
            (
                "signing-repo/ceremonies/",
                "each round: staged metadata, signatures, transcript",
            ),
            (
                "signing-repo/public/repository/",
                "the published repository (root v1 and v2): serve this path",
            ),
            (
                "private-keys/",
                "the private keys (NOT encrypted: for this rehearsal only)",
            ),
            ("requests/", "the signing request of each round"),
            ("signatures/", "the signature files each keyholder handed back"),
            ("mirror/", "a verified mirror; mirror/repository is what it serves"),
            ("mirror-access.log", "what the client asked the mirror for"),
            ("client/metadata/", "the client's trusted metadata, now at root v2"),
            ("client/targets/", "trusted_root.json, downloaded and verified"),
            (STATUS_PAGE, "the status page: roles, expiries, keyholders, rounds"),
            ("quickstart.log", "every command above with its whole output"),
        ];
        for (path, what) in rows {
            say!("  {path:<33} {what}");
        }
        say!();
        say!("Try next, in {}:", self.dir.display());
        let next = [
            (format!("trustroot expiry {REPO}"), "every role's version and expiry"),
            (
                "trustroot inspect client/metadata/root.json".to_string(),
                "who signs what in root v2",
            ),
            (
                format!("trustroot ceremony status --repo {REPO}"),
                "the last round's signatures",
            ),
            (
                format!("trustroot mirror serve {MIRROR}"),
                "serve the mirror again on http://127.0.0.1:8080/",
            ),
        ];
        for (command, what) in next {
            say!("  $ {command:<48} {what}");
        }
        say!(
            "The published timestamp expires in 7 days: `trustroot online refresh --repo {REPO}` re-signs it (cron's job)."
        );
        say!("The guides in trustroot's docs/ can be followed against this directory:");
        say!("  docs/keyholder-guide.md   sign a request with private-keys/alice.pem");
        say!("  docs/operator-guide.md    change the policy, run rounds, keep the repository alive");
        say!("  docs/air-gapped-site.md   mirror it, carry it across a gap as a bundle, serve it");
    }
}
