-- name: referrers_of
-- help: what refers to the object at an address, with the labels of the references
-- param: ?1 addr: the object's address (0x hex or decimal)
SELECT printf('0x%x', s.addr) AS addr, t.name AS type, e.label AS label, e.kind AS kind,
       s.size AS size, s.retained AS retained
FROM objects o
JOIN referrers r ON r.dst = o.id
JOIN edges e ON e.id = r.edge
JOIN objects s ON s.id = r.src
JOIN types t ON t.id = s.type_id
WHERE o.addr = ?1
ORDER BY s.addr, e.id;
