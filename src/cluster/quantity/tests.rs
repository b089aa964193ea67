use super::*;

#[test]
fn cpu_quantities_are_millicores() {
    assert_eq!(cpu_millis("4"), Some(4000));
    assert_eq!(cpu_millis("1500m"), Some(1500));
    assert_eq!(cpu_millis("0.25"), Some(250));
    assert_eq!(cpu_millis("-1"), None);
    assert_eq!(cpu_millis("lots"), None);
}

#[test]
fn memory_quantities_are_bytes() {
    assert_eq!(bytes("8Gi"), Some(8 * 1024 * 1024 * 1024));
    assert_eq!(bytes("512Mi"), Some(512 * 1024 * 1024));
    assert_eq!(bytes("1G"), Some(1_000_000_000));
    assert_eq!(bytes("1e9"), Some(1_000_000_000));
    assert_eq!(bytes("128974848"), Some(128_974_848));
    assert_eq!(bytes("12 apples"), None);
}
