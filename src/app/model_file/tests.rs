use std::sync::{Arc, Mutex};

use jiff::SignedDuration;

use super::*;
use crate::cluster::{Resource, WatchEvent};
use crate::model::Model;

fn at(seconds: i64) -> Timestamp {
    "2026-11-22T00:00:00Z".parse::<Timestamp>().unwrap() + SignedDuration::from_secs(seconds)
}

fn dir(name: &str) -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("dsguard-model-file-{name}-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    dir
}

fn shared() -> SharedModel {
    let mut model = Model::new(Default::default(), SignedDuration::from_secs(60), at(0));
    for r in Resource::ALL {
        model.handle(WatchEvent::Synced(r), at(0));
    }
    Arc::new(Mutex::new(model))
}

#[tokio::test]
async fn a_saved_model_loads_back_and_no_temporary_file_is_left() {
    let dir = dir("roundtrip");
    let mut file = ModelFile::new(Some(&dir)).unwrap();
    assert_eq!(file.load(), None, "nothing saved yet");
    let model = shared();
    file.save(&model, at(5), false).await;
    let loaded = file.load().expect("saved");
    assert_eq!(loaded, model.lock().unwrap().snapshot(at(5)));
    let names: Vec<_> = fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, vec![std::ffi::OsString::from(FILE_NAME)]);
    let _ = fs::remove_dir_all(&dir);
}

#[test]
fn a_corrupt_file_is_set_aside_not_fatal() {
    let dir = dir("corrupt");
    fs::write(dir.join(FILE_NAME), b"{\"version\": 1, \"cells\": [tru").unwrap();
    let file = ModelFile::new(Some(&dir)).unwrap();
    assert_eq!(file.load(), None);
    assert!(!dir.join(FILE_NAME).exists());
    assert!(dir.join("model.json.bad").exists());
    let _ = fs::remove_dir_all(&dir);
}

#[test]
fn without_a_state_directory_nothing_is_saved() {
    assert!(ModelFile::new(None).is_none());
}
