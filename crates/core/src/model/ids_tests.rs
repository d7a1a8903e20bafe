use super::*;

#[test]
fn derived_ids_are_stable_and_distinct() {
    let order = OrderId::generate();
    assert_eq!(TruckRequestId::derive(order, 0, 3), TruckRequestId::derive(order, 0, 3));
    assert_ne!(TruckRequestId::derive(order, 0, 3), TruckRequestId::derive(order, 1, 3));
    let user = UserId::parse("u-1").unwrap();
    assert_eq!(DeviceId::derive(&user, "tok"), DeviceId::derive(&user, "tok"));
    assert_ne!(DeviceId::derive(&user, "tok"), DeviceId::derive(&UserId::parse("u-2").unwrap(), "tok"));
}

#[test]
fn user_ids_reject_key_separators_and_overlong_values() {
    assert!(UserId::parse("cognito-sub_1.a@b:c").is_ok());
    assert!(UserId::parse("").is_err());
    assert!(UserId::parse("a#b").is_err());
    assert!(UserId::parse("a b").is_err());
    assert!(UserId::parse(&"x".repeat(129)).is_err());
}

#[test]
fn path_ids_must_be_uuids() {
    assert!(BookingId::parse("not-a-uuid").is_err());
    let id = BookingId::generate();
    assert_eq!(BookingId::parse(&id.to_string()), Ok(id));
}
