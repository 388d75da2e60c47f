package dev.ibex.repository;

public record DbgroupMember(String db, Role role, int priority) {
}
