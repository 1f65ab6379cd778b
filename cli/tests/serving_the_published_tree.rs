//! What the operator guide says about serving a publish destination, run: a static server
//! started on `DEST/repository` by its path (`python3 -m http.server --directory ...`)
//! serves each new publish; one started inside it (after `cd`) keeps the state it started
//! in, and answers 404 for what the next publish adds.
#![allow(clippy::unwrap_used, clippy::panic)]

mod ceremony_common;

use std::path::Path;

use trustroot_test_support::static_server::StaticServer;

use ceremony_common::*;

#[test]
fn a_server_given_the_path_sees_each_publish_and_one_started_inside_does_not() {
    let setup = Setup::for_publish();
    setup.round_now(&["alice", "bob"]);
    setup.publish();
    let served = setup.repo.join("public/repository");
    let by_path = StaticServer::start(&setup.repo, Some(Path::new("public/repository")));
    let inside = StaticServer::start(&served, None);
    assert_eq!(by_path.status("timestamp.json"), 200);
    assert_eq!(inside.status("timestamp.json"), 200);

    // The next publish: targets v2, in a new state the symlink now points at.
    std::fs::write(setup.repo.join("targets/news.txt"), b"the next publish\n").unwrap();
    setup.round_now(&["alice", "bob"]);
    setup.publish();
    assert_eq!(by_path.status("2.targets.json"), 200);
    assert_eq!(inside.status("2.targets.json"), 404);
}
